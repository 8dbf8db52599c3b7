// Picks one of a route's weighted clusters per request (weights sum to 100): the canary split.
import type { WeightedClusterConfig } from '../../config/resources/route.ts';
import type { Handler } from '../../http/handler.ts';

/** A function choosing one cluster name by weight. */
export function clusterChooser(clusters: readonly WeightedClusterConfig[], random: () => number = Math.random): () => string {
  if (clusters.length === 1) {
    const only = (clusters[0] as WeightedClusterConfig).cluster;
    return () => only;
  }
  const cumulative: number[] = [];
  let total = 0;
  for (const { weight } of clusters) cumulative.push((total += weight));
  const last = clusters[clusters.length - 1] as WeightedClusterConfig;
  return () => {
    const roll = random() * total;
    const index = cumulative.findIndex((upTo) => roll < upTo);
    return (clusters[index] ?? last).cluster;
  };
}

export function weightedSplit(clusters: readonly WeightedClusterConfig[], dispatch: Handler, random: () => number = Math.random): Handler {
  const choose = clusterChooser(clusters, random);
  return (request, context) => {
    context.clusterName = choose();
    return dispatch(request, context);
  };
}
