import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestSeriesTable } from './request-series.ts';

const values = (code: string, flag: string, principal = 'spiffe://td/ns/shop/sa/web'): string[] => ['inbound', 'web', 'shop', 'orders.shop', 'orders-1', 'shop', 'v1', principal, code, '', flag];

test('counts per full label set; durations and bytes summed over the labels they keep; cumulative buckets', () => {
  const table = new RequestSeriesTable();
  table.record(values('200', '-'), 0.0004, 10, 100);
  table.record(values('200', '-'), 0.003, 0, 50);
  table.record(values('200', '-', 'spiffe://td/ns/shop/sa/other'), 0.2, 5, 0);
  table.record(values('503', 'UO'), 40, 0, 0);
  const text = table.text();
  const line = (prefix: string): string | undefined => text.split('\n').find((candidate) => candidate.startsWith(prefix));
  const workload = 'direction="inbound",source_workload="web",source_namespace="shop",destination_service="orders.shop",destination_workload="orders-1",destination_namespace="shop",destination_subset="v1"';
  assert.equal(line(`weft_requests_total{${workload},source_principal="spiffe://td/ns/shop/sa/web",response_code="200",grpc_status="",response_flags="-"}`)?.split(' ')[1], '2');
  assert.equal(line(`weft_requests_total{${workload},source_principal="spiffe://td/ns/shop/sa/other",response_code="200"`)?.split(' ')[1], '1');
  // The 200s of both principals form one duration series: 0.4 ms, 3 ms, 200 ms.
  assert.equal(line(`weft_request_duration_seconds_bucket{${workload},response_code="200",le="0.0005"}`)?.split(' ')[1], '1');
  assert.equal(line(`weft_request_duration_seconds_bucket{${workload},response_code="200",le="0.005"}`)?.split(' ')[1], '2');
  assert.equal(line(`weft_request_duration_seconds_bucket{${workload},response_code="200",le="+Inf"}`)?.split(' ')[1], '3');
  assert.equal(line(`weft_request_duration_seconds_count{${workload},response_code="200"}`)?.split(' ')[1], '3');
  assert.equal(line(`weft_request_duration_seconds_bucket{${workload},response_code="503",le="30"}`)?.split(' ')[1], '0', 'above the last bucket');
  assert.equal(line(`weft_request_duration_seconds_bucket{${workload},response_code="503",le="+Inf"}`)?.split(' ')[1], '1');
  assert.equal(line(`weft_request_bytes_total{${workload}}`)?.split(' ')[1], '15');
  assert.equal(line(`weft_response_bytes_total{${workload}}`)?.split(' ')[1], '150');
  assert.match(text, /^# TYPE weft_request_duration_seconds histogram$/m);
});

test('label values are escaped for the text format', () => {
  const table = new RequestSeriesTable();
  table.record(['outbound', 'a"b', 'c\\d', 'e\nf', 'w', 'n', '', '', '200', '', '-'], 0.001, 0, 0);
  assert.match(table.text(), /source_workload="a\\"b",source_namespace="c\\\\d",destination_service="e\\nf"/);
});
