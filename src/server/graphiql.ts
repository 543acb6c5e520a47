import type { IncomingMessage, ServerResponse } from 'node:http';
import { graphiqlHeaders } from './securityHeaders.js';
import { sendAsset, staticAsset, type StaticAsset } from './staticAsset.js';

/** What GraphiQL is opened with (Yoga's GraphiQL options). */
export interface GraphiQLOptions {
  title: string;
  defaultQuery: string;
  subscriptionsProtocol: 'WS';
}

/** Where its files are served; their names carry a hash of their content. */
const PREFIX = '/graphiql/';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const JS = 'text/javascript; charset=utf-8';

interface Built {
  page: StaticAsset;
  files: Map<string, StaticAsset>;
}

/**
 * GraphiQL at GET /graphql (a browser asking for HTML), from this node alone.
 *
 * Yoga's renderGraphiQL puts everything (9 MB of script, style, editor workers and a favicon) inline
 * into one page, sent again uncompressed on every visit, and needing inline script, which a
 * Content-Security-Policy would have to allow. Here the same parts (from
 * @graphql-yoga/render-graphiql) are separate files named by their content hash: cached by the
 * browser for good, compressed once and kept in memory (staticAsset.ts), and started by a script
 * file of ours instead of inline code. The page itself is a few hundred bytes, revalidated by ETag.
 * Everything is built at the first request, so a node that never shows GraphiQL never loads it.
 */
export function createGraphiQL(options: GraphiQLOptions) {
  let built: Promise<Built> | null = null;
  const build = () => (built ??= buildGraphiQL(options));
  return {
    /** Answers GraphiQL's page and files; false for anything else. */
    async serve(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/graphql' || path === '/graphql/') {
        // Yoga's rule: a GET that accepts HTML is a browser; anything else is a GraphQL request.
        if (req.method !== 'GET' || !String(req.headers.accept ?? '').includes('text/html')) return false;
        await sendAsset(req, res, (await build()).page, graphiqlHeaders(req));
        return true;
      }
      if (!path.startsWith(PREFIX)) return false;
      const file = (await build()).files.get(path);
      if (!file) return false;
      await sendAsset(req, res, file);
      return true;
    },
  };
}

async function buildGraphiQL(options: GraphiQLOptions): Promise<Built> {
  const parts = await import('@graphql-yoga/render-graphiql/graphiql');
  const files = new Map<string, StaticAsset>();
  const add = (name: string, extension: string, content: string | Buffer, contentType: string) => {
    const asset = staticAsset(content, contentType, IMMUTABLE);
    const path = `${PREFIX}${name}.${asset.hash.slice(0, 16)}.${extension}`;
    files.set(path, asset);
    return path;
  };
  const favicon = /^data:([^;,]+);base64,(.*)$/s.exec(parts.favicon);
  const faviconPath = favicon ? add('favicon', 'ico', Buffer.from(favicon[2]!, 'base64'), favicon[1]!) : null;
  const stylePath = add('graphiql', 'css', parts.css, 'text/css; charset=utf-8');
  const scriptPath = add('graphiql', 'js', parts.js, JS);
  // Monaco asks for its workers by label; Yoga's page made blob: URLs of the same scripts.
  const workers = {
    editorWorkerService: add('editor.worker', 'js', parts.editorWorkerService, JS),
    json: add('json.worker', 'js', parts.jsonWorker, JS),
    graphql: add('graphql.worker', 'js', parts.graphqlWorker, JS),
  };
  // What Yoga's page ran inline, as a file: JSON.stringify of plain data is a valid JS expression.
  const boot = `(function () {
  'use strict';
  var workers = ${JSON.stringify(workers)};
  self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: function (moduleId, label) { return workers[label]; } };
  YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), ${JSON.stringify(options)});
})();
`;
  const bootPath = add('boot', 'js', boot, JS);
  const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title)}</title>
${faviconPath ? `    <link rel="icon" href="${faviconPath}" />\n` : ''}    <link rel="stylesheet" href="${stylePath}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript. The API is at POST /graphql.</noscript>
    <div id="root"></div>
    <script src="${scriptPath}"></script>
    <script src="${bootPath}"></script>
  </body>
</html>
`;
  return { page: staticAsset(page, 'text/html; charset=utf-8', 'no-cache'), files };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
