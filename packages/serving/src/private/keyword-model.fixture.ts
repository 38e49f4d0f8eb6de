// Test fixture: a deterministic TaskModel for testing the serving logic alone (engine, worker host).
import type { GenerateOptions, Generation, ModelInput, TaskModel } from './task-model.js';

/**
 * A deterministic model for testing the serving logic alone: an answer scores higher the more
 * often its word appears in the prompt, and generation echoes a fixed answer piece by piece.
 */
export class KeywordModel implements TaskModel {
  readonly batches: { kind: string; size: number; adapter?: string }[] = [];
  disposed = false;
  constructor(
    readonly name: string,
    private readonly delayMs = 5,
    private readonly adapters = new Set(['fer-lora']),
  ) {}
  async scoreAnswers(inputs: ModelInput[], answers: string[], adapter?: string): Promise<number[][]> {
    this.batches.push({ kind: 'score', size: inputs.length, adapter });
    await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.disposed) throw new Error('used after dispose');
    return inputs.map(({ prompt }) => {
      const said = (/The person says: '(.*)'/.exec(prompt)?.[1] ?? '').toLowerCase();
      return answers.map((a) => (said.includes(a.toLowerCase().replace('.', '')) ? 0 : -3));
    });
  }
  async generate(inputs: ModelInput[], options: GenerateOptions, adapter?: string): Promise<Generation[]> {
    this.batches.push({ kind: 'generate', size: inputs.length, adapter });
    await new Promise((r) => setTimeout(r, this.delayMs));
    return inputs.map((input, i) => {
      const answer = input.prompt.includes('emotion-cause') ? '3_joy,3; 3_joy,1' : `${this.name} says hello`;
      const pieces = answer.split(/(?= )/).slice(0, options.maxNewTokens);
      for (const p of pieces) options.onToken?.(i, p);
      return {
        text: pieces.join(''),
        finish: 'eos' as const,
        promptTokens: 3,
        generatedTokens: pieces.length,
      };
    });
  }
  async loadAdapter(name: string) {
    return this.adapters.has(name);
  }
  async unloadAdapter() {}
  async dispose() {
    this.disposed = true;
  }
}

/** The worker-module entry point (see WorkerTaskModel). */
export async function createTaskModel(options: { name: string; delayMs?: number }): Promise<TaskModel> {
  return new KeywordModel(options.name, options.delayMs ?? 0);
}
