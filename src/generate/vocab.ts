/**
 * Shared vocabulary for the line templates: service, table, queue and host names, HTTP paths
 * and stack frames, pre-encoded to bytes once at load.
 */
import { type BodyWriter, enc, encAll } from './body-writer.js';

// Weighted by repetition: GET dominates real access logs.
export const METHODS = encAll(['GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH']);
export const WRITE_METHODS = encAll(['POST', 'PUT', 'PATCH', 'DELETE']);
export const OK_STATUS = encAll(['200', '200', '200', '200', '200', '200', '200', '201', '204', '304']);
export const CLIENT_STATUS = encAll(['400', '401', '403', '404', '404', '409', '422', '429']);
export const SERVICES = encAll([
  'inventory-svc', 'payments-api', 'catalog-svc', 'search-svc', 'auth-svc', 'notifications', 'billing-svc', 'shipping-api',
]);
export const TABLES = encAll(['orders', 'order_items', 'users', 'sessions', 'payments', 'products', 'inventory', 'shipments']);
export const COLUMNS = encAll(['id, status, total', 'id, email, created_at', 'sku, qty, warehouse_id', 'id, user_id, updated_at', '*']);
export const QUEUES = encAll(['orders.created', 'payments.settled', 'emails.outbound', 'search.reindex', 'webhooks.deliver']);
export const JOBS = encAll(['reindex-products', 'send-email', 'export-report', 'sync-inventory', 'purge-sessions', 'rollup-metrics']);
export const CACHE_KEYS = encAll(['product:', 'user:', 'cart:', 'price:', 'stock:', 'session:']);
export const FLAGS = encAll(['new-checkout', 'search-v2', 'dark-mode', 'one-click-buy', 'async-invoices']);
export const CLIENTS = encAll(['mobile-ios/4.12.3', 'mobile-android/4.11.0', 'web/2024.01.12', 'partner-sdk/1.8.2', 'curl/8.4.0']);
export const REDIS_HOSTS = encAll(['redis-0', 'redis-1', 'redis-2']);
export const GRPC_METHODS = encAll([
  'inventory.v1.Stock/Reserve', 'inventory.v1.Stock/Release', 'pricing.v1.Quote/Get', 'users.v1.Profile/Get', 'search.v2.Index/Query',
]);
export const CURRENCIES = encAll(['EUR', 'USD', 'GBP', 'SEK']);
export const WORDS = encAll(['shoes', 'red+dress', 'usb-c+cable', 'coffee', 'desk+lamp', 'backpack', 'phone+case']);
export const REGIONS = encAll(['eu-west-1', 'eu-central-1', 'us-east-1', 'ap-south-1']);

const P_ORDERS = enc('/api/v1/orders/');
const P_USERS = enc('/api/v1/users/');
const P_PROFILE = enc('/profile');
const P_CART = enc('/api/v1/cart');
const P_SEARCH = enc('/api/v2/search?q=');
const P_PAGE = enc('&page=');
const P_PRODUCTS = enc('/api/v1/products/SKU-');
const P_STATIC = enc('/static/js/app.');
const P_JS = enc('.js');
const P_HEALTH = enc('/healthz');
const P_CHECKOUT = enc('/api/v1/checkout');

/** A request path with ids in it. */
export function path(w: BodyWriter): void {
  switch (w.rng.below(8)) {
    case 0:
    case 1:
      w.lit(P_ORDERS);
      w.int(10000, 999999);
      return;
    case 2:
      w.lit(P_USERS);
      w.int(1000, 99999);
      w.lit(P_PROFILE);
      return;
    case 3:
      w.lit(P_SEARCH);
      w.pick(WORDS);
      w.lit(P_PAGE);
      w.int(1, 9);
      return;
    case 4:
      w.lit(P_PRODUCTS);
      w.int(100000, 999999);
      return;
    case 5:
      w.lit(P_STATIC);
      w.hex(8);
      w.lit(P_JS);
      return;
    case 6:
      w.lit(w.rng.below(4) === 0 ? P_HEALTH : P_CART);
      return;
    default:
      w.lit(P_CHECKOUT);
  }
}

const U_DASH = enc('u-');

/** A user id such as u-48213. */
export function user(w: BodyWriter): void {
  w.lit(U_DASH);
  w.int(1000, 99999);
}

const FRAME_AT = enc('    at ');
const FRAME_OPEN = enc(' (/srv/app/src/');
const FRAME_FNS = encAll([
  'Object.handler', 'OrderService.create', 'Repository.query', 'async Promise.all', 'Router.dispatch', 'Layer.handle',
  'PaymentClient.charge', 'validateBody', 'JSON.parse', 'Pool.acquire', 'Worker.run', 'next',
]);
const FRAME_FILES = encAll([
  'handlers/orders.js', 'services/order-service.js', 'db/repository.js', 'http/router.js', 'clients/payment-client.js',
  'middleware/validate.js', 'workers/job-runner.js', 'db/pool.js',
]);
const FRAME_INTERNAL = enc('    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)');

/** One stack-trace continuation line (no newline). */
export function stackFrame(w: BodyWriter, last: boolean): void {
  if (last) {
    w.lit(FRAME_INTERNAL);
    return;
  }
  w.lit(FRAME_AT);
  w.pick(FRAME_FNS);
  w.lit(FRAME_OPEN);
  w.pick(FRAME_FILES);
  w.byte(58);
  w.int(1, 480);
  w.byte(58);
  w.int(1, 60);
  w.byte(41);
}
