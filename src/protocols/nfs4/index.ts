export * from './constants';
export * from './common.codec';
export * from './fattr4.codec';
export * from './ops.codec';
export * from './compound.codec';
