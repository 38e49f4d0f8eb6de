// Test doubles for other packages' tests (`@emoverse/serving/testing`), kept out of the public index.
export { KeywordModel } from './private/keyword-model.fixture.js';
