// The ERI backends this service offers by name (BuildRecordsRequest.eri_backend). The model backends fall back
// to the deterministic one with a warning, so a dead model never stalls record building.
import { type EriGenerator, gatewayEri, offlineEri, openAiEri, withFallback } from '@emoverse/emt';
import { GatewayService } from '@emoverse/proto';
import { createClient } from '@emoverse/service-kit';

export interface EriConfig {
  seed: number;
  timeoutMs: number;
  /** OpenAI-compatible chat endpoint (vLLM, Ollama), e.g. http://localhost:8000/v1. */
  openaiUrl?: string;
  openaiModel?: string;
  /** host:port of the EmoVerse gateway (the project's own model). */
  gatewayAddress?: string;
  warn: (message: string) => void;
}

export function eriBackends(c: EriConfig): { backends: Record<string, EriGenerator>; close(): void } {
  const deterministic = offlineEri(c.seed);
  const backends: Record<string, EriGenerator> = { deterministic };
  const closers: (() => void)[] = [];
  if (c.openaiUrl) {
    backends.openai = withFallback(
      openAiEri({ url: c.openaiUrl, model: c.openaiModel ?? 'default', timeoutMs: c.timeoutMs }),
      deterministic,
      { onWarning: c.warn },
    );
  }
  if (c.gatewayAddress) {
    const gateway = createClient(GatewayService, c.gatewayAddress);
    closers.push(() => gateway.close());
    backends.gateway = withFallback(
      gatewayEri(async (_prompt, x, signal) => {
        const res = await gateway.emotionReason(
          {
            input: {
              text: x.text,
              speaker: x.speaker,
              history: x.context.map((t) => ({ speaker: t.speaker, text: t.text })),
            },
            emotion: x.emotion,
          },
          { timeoutMs: c.timeoutMs, signal },
        );
        return res.rationale;
      }, c.timeoutMs),
      deterministic,
      { onWarning: c.warn },
    );
  }
  return {
    backends,
    close() {
      for (const f of closers) f();
    },
  };
}
