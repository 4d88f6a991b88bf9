/**
 * HTTPS (--ssl-keyfile, --ssl-certfile): the server on the successor model answers over TLS
 * with a self-signed certificate made here by the openssl command, and does not serve plain HTTP.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { testServeOptions } from './support/models.ts';

/** GET over TLS trusting `ca`; resolves status and body. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'servellm-tls-'));
  const keyfile = join(dir, 'key.pem');
  const certfile = join(dir, 'cert.pem');
  let server: RunningServer;

  before(async () => {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
        ...['-keyout', keyfile, '-out', certfile, '-subj', '/CN=127.0.0.1'],
        ...['-addext', 'subjectAltName=IP:127.0.0.1'],
      ],
      { stdio: 'ignore' },
    );
    server = await startServer(
      await testServeOptions({ sslKeyfile: keyfile, sslCertfile: certfile }),
    );
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the API over TLS with the given certificate', async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(certfile, 'utf8');
    const models = await httpsGet(`${server.url}/v1/models`, ca);
    assert.equal(models.status, 200);
    assert.equal((JSON.parse(models.body) as { data: { id: string }[] }).data[0]!.id, 'successor');
    // A client that does not trust the certificate is refused.
    await assert.rejects(httpsGet(`${server.url}/health`, ''), /certificate|self.signed/i);
    // Plain HTTP to the TLS port is not served.
    const plain = await fetch(server.url.replace('https:', 'http:') + '/health').catch(() => null);
    assert.ok(plain === null || plain.status !== 200);
  });
});
