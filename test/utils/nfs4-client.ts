/* The client lives in the build so the NAS bench can drive NFSv4.1 with it too (bench/nfs4-load.ts). */
export { CHANNEL, Nfs4Client as Nfs4TestClient, Nfs4Error, type Nfs4Exchange, type RawArgop, resultOf, rootCred } from '../../src/nas/nfs4/client/nfs4-client';
