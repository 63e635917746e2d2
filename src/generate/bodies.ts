/**
 * Background bodies per level: what a busy web service logs when nothing is wrong. Several
 * templates per level, each with ids, durations and sizes that vary per line, so that
 * signature mining sees a realistic spread and an incident's burst stands out against it.
 *
 * None of these may match a catalog signature's pattern (signatures.ts); the tests check it.
 */
import { CACHE_KEYS, CLIENTS, COLUMNS, CURRENCIES, CLIENT_STATUS, FLAGS, GRPC_METHODS, JOBS, METHODS, OK_STATUS, QUEUES, REDIS_HOSTS, REGIONS, SERVICES, TABLES, WRITE_METHODS, path, user } from './vocab.js';
import { type Template, dec1, hex, int, ip, oneOf, pick, skewed, tpl, uuid, words } from './template.js';

export const TRACE_BODIES: readonly Template[] = [
  tpl`cache hit key=${pick(CACHE_KEYS)}${int(1000, 999999)} ttl=${int(1, 3600)}s node=${pick(REDIS_HOSTS)}`,
  tpl`cache miss key=${pick(CACHE_KEYS)}${int(1000, 999999)}, loading from ${pick(TABLES)}`,
  tpl`db pool acquire conn=${int(1, 50)} wait=${skewed(900)}us active=${int(3, 48)}/50`,
  tpl`SQL SELECT ${pick(COLUMNS)} FROM ${pick(TABLES)} WHERE id = $1 LIMIT ${int(1, 100)} rows=${int(0, 100)} took=${dec1(0, 9)}ms`,
  tpl`span ${hex(16)} parent=${hex(16)} op=${pick(GRPC_METHODS)} dur=${dec1(0, 40)}ms`,
  tpl`redis GET rate:${user}:minute -> ${int(0, 120)} (${dec1(0, 2)}ms)`,
  tpl`grpc ${pick(GRPC_METHODS)} sent ${int(40, 4096)} bytes to ${ip}:9090 stream=${int(1, 400)}`,
  tpl`feature flag ${pick(FLAGS)} evaluated to ${words('true', 'false')} for user ${user} rule=pct-${int(1, 99)}`,
  tpl`http client GET https://catalog.internal/v1/items/${int(10000, 999999)} -> 200 in ${skewed(120)}ms`,
];

const access = tpl`${pick(METHODS)} ${path} ${pick(OK_STATUS)} ${skewed(400)}ms bytes=${skewed(60000)} user=${user} req=${hex(8)}`;
const clientError = tpl`${pick(METHODS)} ${path} ${pick(CLIENT_STATUS)} ${skewed(60)}ms bytes=${int(40, 400)} client=${pick(CLIENTS)} req=${hex(8)}`;

export const INFO_BODIES: readonly Template[] = [
  access,
  access,
  access,
  clientError,
  tpl`user ${user} logged in from ${ip} via ${words('password', 'sso', 'oauth-google', 'passkey')} session=${uuid}`,
  tpl`queue ${pick(QUEUES)} depth=${skewed(5000)} consumers=${int(1, 16)} oldest=${dec1(0, 9)}s`,
  tpl`job ${pick(JOBS)}-${int(1000, 99999)} completed in ${skewed(60000)}ms processed=${skewed(20000)} failed=0`,
  tpl`order ${int(100000, 999999)} created for user ${user} total=${int(1, 2000)}.${int(10, 99)} ${pick(CURRENCIES)} items=${int(1, 12)}`,
  tpl`GC young pause ${dec1(0, 12)}ms heap=${int(300, 1400)}MB/2048MB`,
  tpl`kafka consumer group billing rebalanced partitions=${int(6, 48)} members=${int(2, 12)} generation=${int(10, 900)}`,
  tpl`scheduled task purge-sessions removed ${skewed(5000)} expired sessions in ${skewed(400)}ms`,
  tpl`published event ${words('OrderCreated', 'PaymentSettled', 'ShipmentDispatched', 'UserSignedUp')} id=${uuid} region=${pick(REGIONS)}`,
];

export const WARN_BODIES: readonly Template[] = [
  tpl`slow request ${pick(WRITE_METHODS)} ${path} took ${int(1001, 4800)}ms (threshold=1000ms) user=${user}`,
  tpl`retrying call to ${pick(SERVICES)} attempt=${int(2, 4)}/5 backoff=${int(100, 3200)}ms reason=${words('ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN')}`,
  tpl`connection pool db-main near capacity: ${int(44, 50)}/50 in use, ${int(1, 40)} waiting`,
  tpl`GC old generation pause ${int(150, 900)}ms heap=${int(1600, 2000)}MB/2048MB`,
  tpl`rate limit approaching for tenant t-${int(100, 9999)}: ${int(850, 999)}/1000 requests per minute`,
  tpl`deprecated endpoint /api/v1/legacy/export called by client ${pick(CLIENTS)}`,
  tpl`request body for POST /api/v1/uploads is ${dec1(7, 9)}MB, close to the 10MB limit (user=${user})`,
  tpl`cache eviction rate high on ${pick(REDIS_HOSTS)}: ${int(1000, 9000)} keys/s, policy allkeys-lru`,
  tpl`clock skew of ${int(100, 900)}ms against ntp server ${ip}`,
];

export const ERROR_BODIES: readonly Template[] = [
  tpl`request failed: connection timeout to ${ip}:8080 after ${int(3000, 3100)}ms (req=${hex(8)})`,
  tpl`payment declined for order ${int(100000, 999999)}: card_declined (provider=${words('stripe', 'adyen')}, code=${words('do_not_honor', 'insufficient_funds', 'expired_card')})`,
  tpl`failed to parse JSON body on POST /api/v1/events: Unexpected token } at position ${int(2, 4000)}`,
  tpl`unhandled exception in worker ${int(1, 16)}: TypeError: Cannot read properties of undefined (reading '${words('id', 'items', 'user', 'length')}')`,
  tpl`kafka produce to events-${int(0, 11)} failed: ${words('NOT_LEADER_FOR_PARTITION', 'REQUEST_TIMED_OUT', 'MESSAGE_TOO_LARGE')} (retries exhausted)`,
  tpl`job ${pick(JOBS)}-${int(1000, 99999)} failed after 3 attempts: ${words('SMTP 421 service not available', 'export size over quota', 'lock not acquired')}`,
  tpl`validation failed for order ${int(100000, 999999)}: field '${words('sku', 'quantity', 'address.zip', 'currency')}' is required`,
  tpl`s3 PutObject bucket=app-uploads key=${user}/${hex(12)}.png failed: ${words('SlowDown', 'AccessDenied', 'RequestTimeout')}`,
  tpl`grpc ${pick(GRPC_METHODS)} failed: ${words('DEADLINE_EXCEEDED', 'UNAVAILABLE', 'RESOURCE_EXHAUSTED')} after ${int(100, 900)}ms`,
  tpl`lock wait timed out on resource order:${int(100000, 999999)} held by worker-${int(1, 16)} for ${int(5000, 9000)}ms`,
  tpl`failed to refresh oauth token for user ${user}: ${words('invalid_grant', 'invalid_client', 'temporarily_unavailable')}`,
  tpl`websocket ws-${hex(6)} closed abnormally: code=1006 after ${skewed(900)}s`,
  oneOf(
    tpl`email to ${user}@example.com bounced: mailbox unavailable (smtp=550)`,
    tpl`webhook delivery to https://hooks.partner-${int(1, 40)}.example.net/events failed with status ${pick(CLIENT_STATUS)}`,
  ),
];
