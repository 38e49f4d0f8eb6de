// Names and labels, mirrored by deploy/helm/emoverse/templates/_helpers.tpl.
import type { Release } from './values.js';

/** The five services, in the chart's order, with the key of their block in values. */
export const components = [
  { component: 'frame-extractor', key: 'frameExtractor' },
  { component: 'au-scorer', key: 'auScorer' },
  { component: 'caption-generator', key: 'captionGenerator' },
  { component: 'trainer', key: 'trainer' },
  { component: 'gateway', key: 'gateway' },
] as const;

export type Component = (typeof components)[number]['component'] | 'nats' | 'training';

/** `<release>-<component>`, e.g. emoverse-gateway. */
export function objectName(release: Release, component: string): string {
  return `${release.name}-${component}`;
}

/** The labels a selector matches on: stable across upgrades, so never include versions here. */
export function selectorLabels(release: Release, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'emoverse',
    'app.kubernetes.io/instance': release.name,
    'app.kubernetes.io/component': component,
  };
}

export const chartVersion = '0.1.0';

export function labels(release: Release, component: string): Record<string, string> {
  return {
    ...selectorLabels(release, component),
    'app.kubernetes.io/part-of': 'emoverse',
    'app.kubernetes.io/managed-by': 'Helm',
    'helm.sh/chart': `emoverse-${chartVersion}`,
  };
}
