import type { ExtentInfo } from '../types';
import { StateBadge } from './StateBadge';

/** Header cells for an extent's health columns; stateLabel names the state column. */
export function ExtentHealthHeads({ stateLabel }: { stateLabel: string }) {
  return (
    <>
      <th scope="col">{stateLabel}</th>
      <th scope="col" className="num">
        Errors
      </th>
      <th scope="col">Last error</th>
    </>
  );
}

/** An extent's state, I/O error count and last error, as table cells. */
export function ExtentHealthCells({ extent }: { extent: ExtentInfo }) {
  return (
    <>
      <td>
        <StateBadge state={extent.state} />
      </td>
      <td className="num">{extent.errors}</td>
      <td className="reason-cell">{extent.lastError ?? <span className="muted">–</span>}</td>
    </>
  );
}
