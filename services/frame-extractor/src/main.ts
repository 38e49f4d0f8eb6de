// frame-extractor: video → sampled frames → faces tracked per person (wiring only; see service.ts).
import { frameExtractor } from './service.js';

await frameExtractor.main();
