// L-BFGS on functions whose minimum is known.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { minimizeLbfgs, type Objective } from './lbfgs.js';

// Rosenbrock: f = (1 − a)² + 100 (b − a²)², minimum 0 at (1, 1).
const rosenbrock: Objective = (x, g) => {
  const [a, b] = x;
  g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
  g[1] = 200 * (b - a * a);
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
};

test('L-BFGS finds the minimum of the Rosenbrock function from the usual start', () => {
  const r = minimizeLbfgs(rosenbrock, Float64Array.from([-1.2, 1]), { maxIter: 200, gradTol: 1e-8 });
  assert.ok(r.converged);
  assert.ok(Math.abs(r.x[0] - 1) < 1e-5 && Math.abs(r.x[1] - 1) < 1e-5, `stopped at ${r.x}`);
});

test('every iteration decreases the objective and the start point is left alone', () => {
  const x0 = Float64Array.from([-1.2, 1]);
  const r = minimizeLbfgs(rosenbrock, x0, { maxIter: 50 });
  assert.deepEqual([...x0], [-1.2, 1]);
  assert.equal(r.history.length, r.iterations + 1);
  for (let i = 1; i < r.history.length; i++) assert.ok(r.history[i] < r.history[i - 1]);
});

test('an ill-conditioned quadratic is solved to the gradient tolerance', () => {
  // f = ½ Σ c_i (x_i − 1)², c_i from 1 to 1000
  const c = Float64Array.from({ length: 50 }, (_, i) => 1000 ** (i / 49));
  const quadratic: Objective = (x, g) => {
    let f = 0;
    for (let i = 0; i < x.length; i++) {
      g[i] = c[i] * (x[i] - 1);
      f += 0.5 * c[i] * (x[i] - 1) ** 2;
    }
    return f;
  };
  const r = minimizeLbfgs(quadratic, new Float64Array(50), { maxIter: 500, gradTol: 1e-6, relTol: 0 });
  assert.ok(r.converged);
  for (let i = 0; i < 50; i++) assert.ok(Math.abs(c[i] * (r.x[i] - 1)) <= 1e-6);
});

test('a start that is already optimal takes no iteration', () => {
  const r = minimizeLbfgs(rosenbrock, Float64Array.from([1, 1]));
  assert.equal(r.iterations, 0);
  assert.ok(r.converged);
});
