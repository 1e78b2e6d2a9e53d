/**
 * A cell of a CSV download as a spreadsheet will read it safely: a leading =, +, -, @, tab or
 * carriage return would make Excel or Sheets run the cell as a formula, so it is quoted out.
 */
export function spreadsheetSafe(v: string): string {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}
