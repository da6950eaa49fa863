// Bench report: every figure beside the floor measured in the same run and the ratio to it,
// as a table for people and as `name=value` lines for scripts, with the targets.

export type Unit = 'per_s' | 'per_cpu_s' | 'ms' | 'bytes';

/** A bound on the ratio to the floor, or on the value itself (bytes per event). */
export interface Target {
  readonly on: 'ratio' | 'value';
  readonly op: '>=' | '<=';
  readonly bound: number;
}

export interface Figure {
  /** Machine-readable stem: `<key>_<unit>`, `<key>_ratio`, `<key>_met` are printed. */
  readonly key: string;
  readonly label: string;
  readonly value: number;
  readonly unit: Unit;
  /** What the value is compared with: a floor, or another row where the issue asks for that ratio. */
  readonly floor?: { readonly label: string; readonly value: number };
  readonly target?: Target;
}

export class Report {
  private readonly figures: Figure[] = [];
  private readonly notes: string[] = [];

  figure(figure: Figure): number {
    this.figures.push(figure);
    return figure.value;
  }

  /** Something a reader must know to trust a row, or a row that could not be measured. */
  note(line: string): void {
    this.notes.push(line);
  }

  print(write: (line: string) => void): void {
    write('Every floor was measured in this run, taking turns with its rows (catch-up and CLI rows: right before them).');
    write('ratio = value / floor; for ms and bytes lower is better.');
    write(table(
      ['row', 'value', 'floor (or the row compared with)', 'ratio', 'target', 'met'],
      this.figures.map((figure) => {
        const ratio = ratioOf(figure);
        return [
          figure.label,
          `${formatValue(figure.value, figure.unit)} ${unitLabel(figure.unit)}`,
          figure.floor === undefined ? '-' : `${figure.floor.label}: ${formatValue(figure.floor.value, figure.unit)}`,
          ratio === undefined ? '-' : formatRatio(ratio),
          figure.target === undefined ? '-' : describeTarget(figure.target),
          figure.target === undefined ? '' : met(figure) ? 'met' : 'MISSED',
        ];
      }),
    ));
    if (this.notes.length > 0) {
      write('');
      write('Notes');
      for (const line of this.notes) write(`- ${line}`);
    }
    write('');
    for (const figure of this.figures) {
      write(`${figure.key}_${figure.unit}=${formatPlain(figure.value, figure.unit)}`);
      if (figure.floor !== undefined) write(`${figure.key}_floor_${figure.unit}=${formatPlain(figure.floor.value, figure.unit)}`);
      const ratio = ratioOf(figure);
      if (ratio !== undefined) write(`${figure.key}_ratio=${formatRatio(ratio)}`);
      if (figure.target !== undefined) write(`${figure.key}_met=${met(figure) ? 'yes' : 'no'}`);
    }
  }
}

function ratioOf(figure: Figure): number | undefined {
  if (figure.floor === undefined || !(figure.floor.value > 0)) return undefined;
  return figure.value / figure.floor.value;
}

function met(figure: Figure): boolean {
  const { target } = figure;
  if (target === undefined) return true;
  const measured = target.on === 'value' ? figure.value : ratioOf(figure);
  if (measured === undefined || Number.isNaN(measured)) return false;
  return target.op === '>=' ? measured >= target.bound : measured <= target.bound;
}

function describeTarget(target: Target): string {
  const op = target.op === '>=' ? '≥' : '≤';
  return target.on === 'ratio' ? `ratio ${op} ${target.bound}` : `${op} ${target.bound}`;
}

function unitLabel(unit: Unit): string {
  return unit === 'per_s' ? '/s' : unit === 'per_cpu_s' ? '/CPU-s' : unit;
}

function formatValue(value: number, unit: Unit): string {
  if (Number.isNaN(value)) return 'n/a';
  if (unit === 'ms') return value.toFixed(2);
  return Math.round(value).toLocaleString('en-US');
}

function formatPlain(value: number, unit: Unit): string {
  if (Number.isNaN(value)) return 'nan';
  return unit === 'ms' ? value.toFixed(3) : String(Math.round(value));
}

/** Two significant digits below 1 (0.024), two decimals above (9.41). */
function formatRatio(ratio: number): string {
  return ratio < 1 ? ratio.toPrecision(2) : ratio.toFixed(2);
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}
