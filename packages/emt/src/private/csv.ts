// RFC-4180 CSV reading that survives real files: CRLF or LF, quoted fields with commas, doubled quotes
// and line breaks, a BOM. Each row carries the 1-based line it starts on, so errors can name it.

export interface CsvRow {
  line: number;
  fields: string[];
}

export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let rowStart = 1;
  let field = '';
  let fields: string[] = [];
  let inQuotes = false;
  let fieldStarted = false;
  const endRow = () => {
    fields.push(field);
    // A blank line (one empty field) is not a row.
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: rowStart, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && !fieldStarted) {
      inQuotes = true;
      fieldStarted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\r' && text[i + 1] === '\n') {
      // CRLF: the \n ends the row.
    } else if (c === '\n' || c === '\r') {
      endRow();
      line++;
      rowStart = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}
