// The check-in QR drawn on the phone from the code's payload (uqr, the QR encoder the admin's
// activation sheets use too; loaded with the run screen only), so the meetings service need not
// render an SVG on every rotation.
import { encode } from "uqr";

export interface QrPath {
  size: number; // modules per side, quiet zone included
  d: string; // one SVG path of the dark modules
}

/** The dark modules of `payload` (error correction M, as the server's QR; the standard's
 *  4-module quiet zone) as one SVG path. */
export function qrPath(payload: string): QrPath {
  const { data } = encode(payload, { ecc: "M", border: 4 });
  let d = "";
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) d += `M${x} ${y}h1v1h-1z`;
    }),
  );
  return { size: data.length, d };
}
