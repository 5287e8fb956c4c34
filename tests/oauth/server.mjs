// Starts oauth2-mock-server on loopback for Patchbay's OAuth tests.
//
//   node server.mjs [URL_FILE]
//
// Prints "oauth2-mock-server listening on http://127.0.0.1:PORT" and, when
// URL_FILE is given, writes the URL there. The server is the package's own
// (authorization endpoint with PKCE S256 checks, token endpoint for
// authorization_code, client_credentials and refresh_token); this script only
// adds what a real provider does and the package leaves out:
//
// - refresh tokens are remembered per client; a refresh with an unknown or
//   revoked refresh token gets 400 {"error": "invalid_grant"};
// - POST /revoke {"token": T} revokes that refresh token, and
//   {"client_id": C} revokes every refresh token of client C (a user
//   removing the app in the provider's settings);
// - clients whose id starts with "short-lived" get tokens that expire in 5 s;
// - clients whose id contains "rotating" have their refresh tokens rotated
//   strictly: a refresh token works once (a second use is invalid_grant);
// - every token carries a "jti" and a "grant" claim naming the grant that
//   issued it, so tests can tell a refreshed token from a new one.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

const issued = new Map(); // refresh token -> client id
const revoked = new Set();

function clientId(req) {
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString();
    return decodeURIComponent(decoded.slice(0, decoded.indexOf(':')));
  }
  return req.body?.client_id;
}

server.service.on('beforeTokenSigning', (token, req) => {
  token.payload.jti = randomUUID();
  token.payload.grant = req.body.grant_type;
  token.payload.client = clientId(req);
});

server.service.on('beforeResponse', (response, req) => {
  const client = clientId(req);
  if (req.body.grant_type === 'refresh_token') {
    const presented = req.body.refresh_token;
    if (!issued.has(presented) || revoked.has(presented) || issued.get(presented) !== client) {
      response.statusCode = 400;
      response.body = { error: 'invalid_grant', error_description: 'the refresh token is revoked or unknown' };
      return;
    }
  }
  if (response.statusCode === 200 && response.body.refresh_token) {
    issued.set(response.body.refresh_token, client);
  }
  if (response.statusCode === 200 && req.body.grant_type === 'refresh_token' && client?.includes('rotating')) {
    revoked.add(req.body.refresh_token);
  }
  if (response.statusCode === 200 && client?.startsWith('short-lived')) {
    response.body.expires_in = 5;
  }
});

server.service.on('beforeRevoke', (_response, req) => {
  const { token, client_id: client } = req.body ?? {};
  if (token) revoked.add(token);
  if (client) {
    for (const [refresh, owner] of issued) if (owner === client) revoked.add(refresh);
  }
});

await server.start(Number(process.env.OAUTH_PORT ?? 0), '127.0.0.1');
const url = `http://127.0.0.1:${server.address().port}`;
server.issuer.url = url;
console.log(`oauth2-mock-server listening on ${url}`);
if (process.argv[2]) writeFileSync(process.argv[2], url);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await server.stop();
    process.exit(0);
  });
}
