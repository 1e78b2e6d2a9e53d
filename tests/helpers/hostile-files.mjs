import fs from "node:fs";
import { Readable } from "node:stream";
import { once } from "node:events";
import archiver from "archiver";

/**
 * Hostile import files, generated as streams so that the test never holds them (or what they
 * decompress to) in memory: what a free account could upload to take a server down. Plain
 * JavaScript, shared by the integration tests and the browser tests' fault test.
 */

const CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`;
const ROOT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`;
const WORKBOOK = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Clients" sheetId="1" r:id="rId1"/></sheets></workbook>`;
const WORKBOOK_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`;
const SHEET = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row></sheetData></worksheet>`;

/**
 * A valid-looking workbook whose shared strings decompress to `inflatedBytes`: many distinct
 * 1 KB strings (which a parser caching shared strings keeps, every one), in a file about a
 * thousandth of that size.
 */
/** @param {string} path @param {number} inflatedBytes @returns {Promise<void>} */
export async function writeXlsxBomb(path, inflatedBytes) {
  const filler = "A".repeat(1000);
  const perString = `<si><t>${filler}</t></si>`.length;
  const count = Math.ceil(inflatedBytes / perString);
  async function* sharedStrings() {
    yield `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${count}" uniqueCount="${count}">`;
    const chunk = `<si><t>${filler}</t></si>`.repeat(64);
    for (let i = 0; i < count; i += 64) yield chunk;
    yield "</sst>";
  }
  const out = fs.createWriteStream(path);
  const archive = archiver("zip", { zlib: { level: 9 } });
  archive.pipe(out);
  archive.append(CONTENT_TYPES, { name: "[Content_Types].xml" });
  archive.append(ROOT_RELS, { name: "_rels/.rels" });
  archive.append(WORKBOOK, { name: "xl/workbook.xml" });
  archive.append(WORKBOOK_RELS, { name: "xl/_rels/workbook.xml.rels" });
  archive.append(Readable.from(sharedStrings()), { name: "xl/sharedStrings.xml" });
  archive.append(SHEET, { name: "xl/worksheets/sheet1.xml" });
  const closed = once(out, "close");
  await archive.finalize();
  await closed;
}

/**
 * A CSV whose every row has `columns` empty columns: a few bytes each, millions of cells.
 * @param {string} path @param {number} columns @param {number} rows @returns {Promise<void>}
 */
export async function writeWideCsv(path, columns, rows) {
  const row = `x${",".repeat(columns - 1)}\n`;
  const out = fs.createWriteStream(path);
  for (let i = 0; i < rows; i++) if (!out.write(row)) await once(out, "drain");
  out.end();
  await once(out, "close");
}

/**
 * A small workbook whose rows are each just under the 1 MB row limit: one 30,000-character shared
 * string referenced by `cells` cells per row. Every row is legal; together they inflate to
 * rows × cells × 30,000 characters from a file of a few kilobytes.
 * @param {string} path @param {number} rows @param {number} cells @returns {Promise<void>}
 */
export async function writeAmplifiedXlsx(path, rows, cells = 30) {
  const column = (i) => (i < 26 ? String.fromCharCode(65 + i) : String.fromCharCode(64 + Math.floor(i / 26)) + String.fromCharCode(65 + (i % 26)));
  const header = Array.from({ length: cells }, (_, i) => `<c r="${column(i)}1" t="inlineStr"><is><t>${i === 0 ? "Name" : `Notes ${i}`}</t></is></c>`).join("");
  async function* sheet() {
    yield `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">${header}</row>`;
    for (let r = 2; r <= rows + 1; r++)
      yield `<row r="${r}">${Array.from({ length: cells }, (_, i) => `<c r="${column(i)}${r}" t="s"><v>0</v></c>`).join("")}</row>`;
    yield "</sheetData></worksheet>";
  }
  const strings = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>${"W".repeat(30_000)}</t></si></sst>`;
  const out = fs.createWriteStream(path);
  const archive = archiver("zip", { zlib: { level: 9 } });
  archive.pipe(out);
  archive.append(CONTENT_TYPES, { name: "[Content_Types].xml" });
  archive.append(ROOT_RELS, { name: "_rels/.rels" });
  archive.append(WORKBOOK, { name: "xl/workbook.xml" });
  archive.append(WORKBOOK_RELS, { name: "xl/_rels/workbook.xml.rels" });
  archive.append(strings, { name: "xl/sharedStrings.xml" });
  archive.append(Readable.from(sheet()), { name: "xl/worksheets/sheet1.xml" });
  const closed = once(out, "close");
  await archive.finalize();
  await closed;
}
