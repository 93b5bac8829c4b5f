/** The benches' number formats: thousands separated, `digits` decimals (none by default). */
export const num = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A share (0.42) as a whole percentage ('42%'). */
export const pct = (share: number) => `${(share * 100).toFixed(0)}%`;
