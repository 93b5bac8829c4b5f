/** strata-client's library: the SAN client and what it returns. */
export { SanClient, parseGateway, type SanClientOptions } from './san-client';
export { Volume, type VolumeDescription } from './volume';
export { SanError, GatewayUnreachable } from './san-error';
export type { SessionStats } from './client-session';
