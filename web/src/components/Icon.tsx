/** Line icons for the navigation, drawn on a 16-unit grid in the current text colour. */
const PATHS = {
  dashboard: 'M2 2h5v6H2zM9 2h5v3H9zM9 7h5v7H9zM2 10h5v4H2z',
  devices: 'M2 4h12v8H2zM4.5 10h.01M7 10h5',
  pools: 'M8 2l6 3-6 3-6-3zM2 8l6 3 6-3M2 11l6 3 6-3',
  volumes: 'M3 4c0-1.1 2.2-2 5-2s5 .9 5 2v8c0 1.1-2.2 2-5 2s-5-.9-5-2zM3 4c0 1.1 2.2 2 5 2s5-.9 5-2M3 8c0 1.1 2.2 2 5 2s5-.9 5-2',
  shares: 'M2 4h4l1.5 1.5H14V13H2zM5 9h6',
  hosts: 'M2 2h12v5H2zM2 9h12v5H2zM4.5 4.5h.01M4.5 11.5h.01',
  audit: 'M4 2h8v12H4zM6 5h4M6 8h4M6 11h2',
  // Two volumes bound by one frame: snapshotted together.
  groups: 'M2 3h12v10H2zM4.5 5.5h3v5h-3zM8.5 5.5h3v5h-3z',
  jobs: 'M8 2a6 6 0 1 0 6 6M8 5v3l2 2M11 2h3v3',
  // A volume here, its copy there, and the way between them.
  replication: 'M2 3h5v5H2zM9 8h5v5H9zM4.5 8v3.5H9M11.5 8V4.5H7',
  // A box the copies go into, its lid and the arrow in.
  backups: 'M2 7h12v7H2zM1.5 5h13v2h-13zM8 1v7.5M5.5 6L8 8.5 10.5 6',
  logout: 'M6 2H3v12h3M10 5l3 3-3 3M13 8H6',
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg className="icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} />
    </svg>
  );
}

/** The product mark: three stacked layers, as storage is stacked in Strata. */
export function Brand({ className }: { className?: string }) {
  return (
    <div className={className ? `brand ${className}` : 'brand'}>
      <svg viewBox="0 0 16 16" aria-hidden="true" className="brand-mark">
        <rect x="1" y="2" width="14" height="3" rx="1" />
        <rect x="1" y="6.5" width="14" height="3" rx="1" />
        <rect x="1" y="11" width="14" height="3" rx="1" />
      </svg>
      <span>Strata</span>
    </div>
  );
}
