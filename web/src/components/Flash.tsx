/** What the last action did, in words; polite, so it never interrupts an error being read. */
export function Flash({ message }: { message: string | null }) {
  return (
    <div aria-live="polite">
      {message && <p className="flash">{message}</p>}
    </div>
  );
}
