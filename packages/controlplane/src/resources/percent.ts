// Istio's Percent: `{value: 12.5}`, a share of requests from 0 to 100.
import type { Field } from '../registry/field.ts';

/** The percentage in `field`, or `absent` when the field is not set. */
export function parsePercent(field: Field, absent: number): number {
  if (!field.present) return absent;
  field.object(['value']);
  return field.get('value').number(0, 100);
}
