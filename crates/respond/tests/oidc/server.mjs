// Test provider: `node server.mjs PORT [SUBJECT_EMAIL]`; PORT 0 takes a free loopback port, and the
// first line on stdout, `listening on N`, names the port once it accepts connections. Clients: `relying-app` (client credentials;
// its tokens stand for the leaver's, SUBJECT_EMAIL, default lee@shop.example) with revocation and
// introspection enabled. It also offers OAuth 2.0 Global Token Revocation
// (draft-parecki-oauth-global-token-revocation): POST /global-token-revocation with the client's
// credentials and {"sub_id": {"format": "email", "email": SUBJECT_EMAIL}} destroys every token issued
// so far through the provider's own token model, so introspection then answers active=false.
// 204 on success, 404 for another subject, 400 for a malformed body, 401 without the client's
// credentials. Loopback only.
import http from 'node:http';
import Provider from 'oidc-provider';

// Bind first, so the issuer names the port the kernel gave us (no window in which another process
// could take a port chosen in advance).
const server = http.createServer();
await new Promise((resolve) => server.listen(Number(process.argv[2] || 4444), '127.0.0.1', resolve));
const port = server.address().port;
const subject = (process.argv[3] || 'lee@shop.example').toLowerCase();
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'relying-app',
      client_secret: 'relying-app-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  discovery: { global_token_revocation_endpoint: `${issuer}/global-token-revocation` },
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    devInteractions: { enabled: false },
  },
});

const issued = new Set();
provider.on('client_credentials.saved', (token) => issued.add(token.jti));

const body = (req) => new Promise((resolve, reject) => {
  let data = '';
  req.on('data', (c) => { data += c; });
  req.on('end', () => resolve(data));
  req.on('error', reject);
});

provider.use(async (ctx, next) => {
  if (ctx.path !== '/global-token-revocation') return next();
  if (ctx.method !== 'POST') { ctx.status = 405; return undefined; }
  const expected = `Basic ${Buffer.from('relying-app:relying-app-secret').toString('base64')}`;
  if (ctx.get('authorization') !== expected) { ctx.status = 401; return undefined; }
  let sub;
  try {
    sub = JSON.parse(await body(ctx.req)).sub_id;
  } catch {
    ctx.status = 400; return undefined;
  }
  if (!sub || typeof sub.format !== 'string') { ctx.status = 400; return undefined; }
  if (sub.format !== 'email' || String(sub.email).toLowerCase() !== subject) { ctx.status = 404; return undefined; }
  for (const jti of issued) {
    const token = await provider.ClientCredentials.find(jti);
    if (token) await token.destroy();
  }
  issued.clear();
  ctx.status = 204;
  return undefined;
});

server.on('request', provider.callback());
console.log(`listening on ${port}`);
