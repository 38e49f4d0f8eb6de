// Test fixtures for other packages' tests (`@emoverse/trainer-core/testing`), kept out of the public index.
export { toyRecipe, writeToyEmt } from './private/toy-emt.fixture.js';
