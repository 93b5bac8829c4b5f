/** NFSv3 wire codec (RFC 1813): constants, types, per-procedure codecs, size helpers, procedure table. */
export * from './constants';
export * from './common.codec';
export * from './file.codec';
export * from './directory.codec';
export * from './readdir.codec';
export * from './filesystem.codec';
export * from './procedures';
