// Tokenizers: tokenizer.json through @huggingface/tokenizers (the maintained JS port of HF
// tokenizers), chat templates through @huggingface/jinja. Defaults follow the Python library:
// encode adds the post-processor's special tokens, decode skips special tokens.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | string;
  content: string;
}

/** Used when a tokenizer ships no chat template (the fixture and nano tokenizers). */
export const DEFAULT_CHAT_TEMPLATE =
  '{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}\n{% endfor %}' +
  '{% if add_generation_prompt %}<|assistant|>\n{% endif %}';

type Json = Record<string, unknown>;

export class TextTokenizer {
  private readonly tok: Tokenizer;
  /** tokenizer.json and tokenizer_config.json as given (for saving) */
  readonly json: Json;
  readonly config: Json;
  readonly chatTemplate: string;
  readonly vocabSize: number;

  constructor(tokenizerJson: Json, tokenizerConfig: Json = {}, chatTemplate?: string) {
    this.tok = new Tokenizer(tokenizerJson, tokenizerConfig);
    this.json = tokenizerJson;
    this.config = tokenizerConfig;
    this.chatTemplate = chatTemplate ?? pickTemplate(tokenizerConfig.chat_template) ?? DEFAULT_CHAT_TEMPLATE;
    let max = -1;
    for (const id of this.tok.get_vocab(true).values()) max = Math.max(max, id);
    this.vocabSize = max + 1;
  }

  /** Reads tokenizer.json, and tokenizer_config.json / chat_template.jinja when present. */
  static fromDir(dir: string): TextTokenizer {
    const path = join(dir, 'tokenizer.json');
    if (!existsSync(path)) throw new Error(`${dir}: no tokenizer.json`);
    const cfgPath = join(dir, 'tokenizer_config.json');
    const tplPath = join(dir, 'chat_template.jinja');
    return new TextTokenizer(
      JSON.parse(readFileSync(path, 'utf8')),
      existsSync(cfgPath) ? JSON.parse(readFileSync(cfgPath, 'utf8')) : {},
      existsSync(tplPath) ? readFileSync(tplPath, 'utf8') : undefined,
    );
  }

  static fromFile(tokenizerJsonPath: string): TextTokenizer {
    return new TextTokenizer(JSON.parse(readFileSync(tokenizerJsonPath, 'utf8')));
  }

  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids;
  }

  tokens(text: string, opts: { addSpecialTokens?: boolean } = {}): string[] {
    return this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).tokens;
  }

  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.tok.decode([...ids], { skip_special_tokens: opts.skipSpecialTokens ?? true });
  }

  tokenId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /** Renders messages with the chat template (HF's variables: messages, add_generation_prompt, bos/eos). */
  applyChatTemplate(
    messages: ChatMessage[],
    opts: { addGenerationPrompt?: boolean; template?: string; extra?: Json } = {},
  ): string {
    const tpl = new Template(opts.template ?? this.chatTemplate);
    return tpl.render({
      messages,
      add_generation_prompt: opts.addGenerationPrompt ?? false,
      bos_token: tokenText(this.config.bos_token),
      eos_token: tokenText(this.config.eos_token),
      ...opts.extra,
    });
  }
}

function tokenText(t: unknown): string {
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object' && 'content' in t) return String((t as { content: unknown }).content);
  return '';
}

function pickTemplate(t: unknown): string | undefined {
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const d = t.find((x) => x?.name === 'default') ?? t[0];
    return d?.template;
  }
  return undefined;
}
