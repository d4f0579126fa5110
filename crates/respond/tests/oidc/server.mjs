// Test provider: `node server.mjs PORT`. Clients: `relying-app` (client credentials; its tokens stand
// for the leaver's) with revocation and introspection enabled. Loopback only.
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 4444);
const provider = new Provider(`http://127.0.0.1:${port}`, {
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
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    devInteractions: { enabled: false },
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
