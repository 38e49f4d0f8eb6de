// The au-scorer service
export { framesToGeometry, scoreSpan } from './scoring.js';
