// The playground's script: reads the form, calls AnalyzeStream over Connect, and draws each part as it arrives.
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import {
  type Analysis,
  type AnalysisTurn,
  type FacialExpressionAnalysis,
  GatewayService,
  type LabelScores,
} from '@emoverse/proto/gateway';

type PeakImage = NonNullable<FacialExpressionAnalysis['peakImage']>;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const client = createClient(
  GatewayService,
  createConnectTransport({ baseUrl: location.origin, useBinaryFormat: true }),
);
let file: File | undefined;

/** "Speaker: text" (or just text) as a turn. */
function turn(line: string): { speaker: string; text: string } {
  const m = /^\s*([^:]{1,40}):\s*(.*)$/.exec(line);
  return m ? { speaker: m[1].trim(), text: m[2].trim() } : { speaker: '', text: line.trim() };
}

function el(tag: string, attrs: Record<string, string> = {}, text = ''): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.textContent = text;
  return e;
}

/** Horizontal bars, the largest highlighted; `max` is the scale's top. */
function bars(id: string, rows: { label: string; value: number }[], max: number, digits: number) {
  const box = $(id);
  box.replaceChildren();
  const top = Math.max(...rows.map((r) => r.value));
  for (const r of rows) {
    const row = el('div', { class: r.value === top ? 'bar top' : 'bar', 'data-label': r.label });
    const track = el('div');
    track.append(el('div', { class: 'fill', style: `width:${Math.min(100, (100 * r.value) / max)}%` }));
    row.append(el('span', {}, r.label), track, el('span', {}, r.value.toFixed(digits)));
    box.append(row);
  }
}

function scores(id: string, s: LabelScores | undefined) {
  if (!s) return;
  const rows = s.probabilities.map((p) => ({ label: p.label, value: p.probability }));
  bars(
    id,
    rows.sort((a, b) => b.value - a.value),
    1,
    2,
  );
}

/** The peak frame with the face box and landmarks drawn over it (SVG in the image's pixel space). */
function peakFrame(img: PeakImage | undefined) {
  if (!img?.jpeg.length) return;
  const box = $('peak');
  const url = URL.createObjectURL(new Blob([img.jpeg as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }));
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('viewBox', `0 0 ${img.width} ${img.height}`);
  if (img.face) {
    const r = document.createElementNS(svgNs, 'rect');
    const f = img.face;
    for (const [k, v] of Object.entries({ x: f.x, y: f.y, width: f.width, height: f.height }))
      r.setAttribute(k, String(v));
    r.setAttribute('fill', 'none');
    r.setAttribute('stroke', '#2f6fed');
    r.setAttribute('stroke-width', String(Math.max(2, img.width / 200)));
    svg.append(r);
  }
  for (let i = 0; i + 1 < img.landmarks.length; i += 2) {
    const c = document.createElementNS(svgNs, 'circle');
    c.setAttribute('cx', String(img.landmarks[i]));
    c.setAttribute('cy', String(img.landmarks[i + 1]));
    c.setAttribute('r', String(Math.max(1.5, img.width / 300)));
    c.setAttribute('fill', '#e8590c');
    c.setAttribute('class', 'landmark');
    svg.append(c);
  }
  box.replaceChildren(el('img', { src: url, alt: 'peak frame' }), svg);
}

/** The analysed media: the peak frame and the AUs at it (the caption comes later). */
function peak(f: FacialExpressionAnalysis) {
  peakFrame(f.peakImage);
  const p = f.peak;
  if (p) $('peak-info').textContent = `frame ${p.frameIndex} at ${p.timeS.toFixed(2)} s, person ${p.trackId}`;
  const aus = f.aus.map((a) => ({ label: a.name, value: a.intensity }));
  bars('au-chart', aus, 5, 2);
}

function conversation(turns: AnalysisTurn[], target: number, causes: Analysis['causes']) {
  const list = $('turns');
  list.replaceChildren();
  const cause = new Set(causes.map((c) => c.causeUtterance));
  turns.forEach((t, i) => {
    const classes = [i + 1 === target ? 'target' : '', cause.has(i + 1) ? 'cause' : ''].filter(Boolean);
    list.append(el('li', { class: classes.join(' ') }, `${t.speaker ? `${t.speaker}: ` : ''}${t.text}`));
  });
}

/** One streamed part onto the page. */
function show(part: string, a: Analysis, turns: AnalysisTurn[]) {
  if (part === 'media' && a.facialExpression) peak(a.facialExpression);
  if (part === 'facial_expression') $('caption').textContent = a.facialExpression?.caption ?? '';
  if (part === 'sentiment') scores('sentiment-bars', a.sentiment);
  if (part === 'emotion') scores('emotion-bars', a.emotion);
  if (part === 'reason' && a.reason) $('rationale').textContent = a.reason.rationale;
  if (part === 'causes') conversation(turns, a.target || turns.length, a.causes);
  if (part === 'done') {
    $('model').textContent = a.model ? `${a.model.modelId} ${a.model.version}` : '';
    const table = $('timings');
    table.replaceChildren();
    for (const t of a.timings) {
      const row = el('tr');
      row.append(el('td', {}, t.stage), el('td', {}, `${t.durationMs.toFixed(0)} ms`));
      table.append(row);
    }
  }
}

const WHY: Partial<Record<Code, string>> = {
  [Code.InvalidArgument]: 'The request was refused',
  [Code.Unauthenticated]: 'Not signed in: give the bearer token',
  [Code.ResourceExhausted]: 'Too large or too busy',
  [Code.Unavailable]: 'The gateway cannot answer now',
  [Code.DeadlineExceeded]: 'It took too long',
  [Code.NotFound]: 'Not found',
};

/** A failure as one readable line: what kind, the server's reason, the code's name. */
function explain(e: unknown): string {
  const c = ConnectError.from(e);
  return `${WHY[c.code] ?? 'The analysis failed'}: ${c.rawMessage} (${Code[c.code]})`;
}

function reset() {
  for (const id of ['peak', 'au-chart', 'emotion-bars', 'sentiment-bars', 'turns', 'timings'])
    $(id).replaceChildren();
  for (const id of ['caption', 'peak-info', 'rationale']) $(id).textContent = '';
  $('error').hidden = true;
}

async function analyze(ev: Event) {
  ev.preventDefault();
  reset();
  const history = $<HTMLTextAreaElement>('conversation')
    .value.split('\n')
    .filter((l) => l.trim())
    .map(turn);
  const turns: AnalysisTurn[] = [...history, turn($<HTMLInputElement>('utterance').value)] as AnalysisTurn[];
  const bytes = file ? new Uint8Array(await file.arrayBuffer()) : undefined;
  const media = bytes
    ? {
        source: {
          case: file!.type.startsWith('image/') ? ('image' as const) : ('video' as const),
          value: bytes,
        },
      }
    : undefined;
  const token = $<HTMLInputElement>('token').value.trim();
  const button = $<HTMLButtonElement>('analyze');
  button.disabled = true;
  $('status').textContent = 'Analysing…';
  try {
    const stream = client.analyzeStream(
      { input: { conversation: turns, target: turns.length, media } },
      { headers: token ? { authorization: `Bearer ${token}` } : {} },
    );
    for await (const m of stream) if (m.analysis) show(m.part, m.analysis, turns);
    $('status').textContent = 'Done.';
  } catch (e) {
    $('error').textContent = explain(e);
    $('error').hidden = false;
    $('status').textContent = '';
  } finally {
    button.disabled = false;
  }
}

function choose(f: File | undefined) {
  file = f;
  $('file-name').textContent = f ? `${f.name} (${(f.size / 1024).toFixed(0)} KiB)` : '';
}

const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  choose(e.dataTransfer?.files[0]);
});
$<HTMLInputElement>('file').addEventListener('change', (e) =>
  choose((e.target as HTMLInputElement).files?.[0]),
);
$('form').addEventListener('submit', analyze);
