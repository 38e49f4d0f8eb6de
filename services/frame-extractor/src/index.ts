// The frame-extractor service
export { type ExtractionDefaults, runExtraction } from './extraction.js';
export { frameExtractor } from './service.js';
