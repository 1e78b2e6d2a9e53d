import fs from "node:fs";
import ExcelJS from "exceljs";

/**
 * Generates client spreadsheets of `n` rows where every 50th row is invalid (2 %): a bad email
 * on odd multiples, a missing name on even ones. Written streaming, so 100,000 rows are cheap.
 */
export function clientRow(i: number): { name: string; email: string; phone: string; company: string; external: string } {
  const bad = i % 50 === 49;
  return {
    name: bad && i % 100 === 99 ? "" : `Client ${i}`,
    email: bad && i % 100 !== 99 ? `not-an-email-${i}` : `client${i}@import.test`,
    phone: `+1 555 ${String(i).padStart(6, "0")}`,
    company: `Company ${i % 97}`,
    external: `row-${i}`,
  };
}

export const invalidRows = (n: number) => Array.from({ length: n }, (_, i) => i).filter((i) => i % 50 === 49).length;

export async function writeCsv(path: string, n: number): Promise<void> {
  const out = fs.createWriteStream(path);
  out.write("Name,Email,Phone,Company,External ID\n");
  for (let i = 0; i < n; i++) {
    const r = clientRow(i);
    if (!out.write(`"${r.name}",${r.email},${r.phone},"${r.company}",${r.external}\n`)) await new Promise<void>((res) => out.once("drain", () => res()));
  }
  await new Promise<void>((res, rej) => out.end((err?: Error) => (err ? rej(err) : res())));
}

export async function writeXlsx(path: string, n: number): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: false, useStyles: false });
  const ws = wb.addWorksheet("Clients");
  ws.addRow(["Name", "Email", "Phone", "Company", "External ID"]).commit();
  for (let i = 0; i < n; i++) {
    const r = clientRow(i);
    ws.addRow([r.name, r.email, r.phone, r.company, r.external]).commit();
  }
  ws.commit();
  await wb.commit();
}
