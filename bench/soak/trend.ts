// The growth trend of a series sampled over time: the least-squares slope, which one noisy
// sample (a garbage collection just before or after it) moves far less than first-vs-last does.

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** Slope of the least-squares line through `points`; undefined for fewer than 3 points or a single x. */
export function leastSquaresSlope(points: readonly Point[]): number | undefined {
  if (points.length < 3) return undefined;
  const meanX = points.reduce((sum, point) => sum + point.x, 0) / points.length;
  const meanY = points.reduce((sum, point) => sum + point.y, 0) / points.length;
  let covariance = 0;
  let variance = 0;
  for (const { x, y } of points) {
    covariance += (x - meanX) * (y - meanY);
    variance += (x - meanX) ** 2;
  }
  return variance === 0 ? undefined : covariance / variance;
}
