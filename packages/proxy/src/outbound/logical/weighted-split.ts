// Picks one of a route's weighted clusters per request (weights sum to 100): the canary split.
import type { WeightedClusterConfig } from '../../config/resources/route.ts';
import type { Handler } from '../../http/handler.ts';

export function weightedSplit(clusters: readonly WeightedClusterConfig[], dispatch: Handler, random: () => number = Math.random): Handler {
  if (clusters.length === 1) {
    const only = (clusters[0] as WeightedClusterConfig).cluster;
    return (request, context) => {
      context.clusterName = only;
      return dispatch(request, context);
    };
  }
  const cumulative: number[] = [];
  let total = 0;
  for (const { weight } of clusters) cumulative.push((total += weight));
  return (request, context) => {
    const roll = random() * total;
    const index = cumulative.findIndex((upTo) => roll < upTo);
    context.clusterName = (clusters[index] ?? clusters[clusters.length - 1])?.cluster;
    return dispatch(request, context);
  };
}
