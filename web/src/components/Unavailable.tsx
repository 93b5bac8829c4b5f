/** Where live figures would be: said plainly when there are none, with the reason. */
export function Unavailable({ reason }: { reason: string }) {
  return (
    <p className="unavailable">
      <strong>Statistics not available</strong>
      <span>{reason}</span>
    </p>
  );
}
