/**
 * `GET /openapi.json` (the OpenAPI document, openapi/openapi-document.ts), `GET /docs` (Swagger
 * UI) and `GET /redoc` (ReDoc): the pages load their scripts from jsDelivr, as FastAPI's
 * defaults in vLLM do; the document itself needs nothing from outside.
 */
import type { FastifyInstance } from 'fastify';
import { openApiDocument } from '../openapi/openapi-document.ts';

const SWAGGER_UI = `<!DOCTYPE html>
<html><head><title>servellm - Swagger UI</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: 'openapi.json', dom_id: '#swagger-ui' });</script>
</body></html>
`;

const REDOC = `<!DOCTYPE html>
<html><head><title>servellm - ReDoc</title></head><body>
<redoc spec-url="openapi.json"></redoc>
<script src="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"></script>
</body></html>
`;

/** Registers the document and the two pages. */
export function registerDocsRoutes(app: FastifyInstance, version: string, metrics: boolean): void {
  const document = openApiDocument(version, metrics);
  app.get('/openapi.json', () => document);
  app.get('/docs', (_request, reply) => reply.type('text/html; charset=utf-8').send(SWAGGER_UI));
  app.get('/redoc', (_request, reply) => reply.type('text/html; charset=utf-8').send(REDOC));
}
