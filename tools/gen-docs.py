#!/usr/bin/python3
# gen-docs.py -- render data/openapi.json as the self-contained page data/docs.html
#
# The page is served at GET /v1/docs under a CSP that allows no scripts from
# elsewhere and no external resources, so it is plain HTML with one inline
# stylesheet: no JavaScript, no fonts, no images. Standard library only.
#
# usage: tools/gen-docs.py [--check] [-o OUT] [SPEC]
#   SPEC defaults to data/openapi.json, OUT to data/docs.html (both relative
#   to the source tree this script lives in). --check writes nothing and
#   exits 1 when OUT is not what SPEC renders to (for tests and CI).

import argparse
import html
import json
import os
import re
import sys

METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
           "trace")

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: #1d2329; background: #fff; margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
h1 { font-size: 1.9rem; margin: 1.2rem 0 .2rem; }
h2 { font-size: 1.4rem; margin-top: 2.5rem; border-bottom: 2px solid #d8dee4;
  padding-bottom: .2rem; }
h3 { font-size: 1.1rem; margin: 0 0 .4rem; }
h4 { font-size: .95rem; margin: 1rem 0 .3rem; color: #444c56; }
code, pre { font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; }
code { background: #f3f5f7; padding: 0 .25em; border-radius: 3px; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; padding: .6rem .8rem;
  overflow-x: auto; border-radius: 4px; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0 .8rem;
  font-size: 14px; }
th, td { border: 1px solid #d8dee4; padding: .3rem .5rem; text-align: left;
  vertical-align: top; }
th { background: #f3f5f7; }
td p, dd p { margin: 0 0 .3rem; }
td p:last-child, dd p:last-child { margin-bottom: 0; }
a { color: #0b5cad; }
.subtitle { color: #57606a; margin: 0 0 1rem; }
.op { border: 1px solid #d8dee4; border-radius: 6px; padding: .9rem 1rem;
  margin: 1.2rem 0; }
.method { display: inline-block; min-width: 4.2em; text-align: center;
  color: #fff; border-radius: 4px; padding: 0 .4em; margin-right: .4em;
  font: bold 13px/1.7 ui-monospace, "DejaVu Sans Mono", monospace; }
.get { background: #1f7a3d; } .post { background: #0b5cad; }
.put { background: #8a5a00; } .patch { background: #6f42c1; }
.delete { background: #b31d28; }
.path { font-size: 1rem; background: none; }
dl.meta { display: grid; grid-template-columns: max-content 1fr;
  gap: .1rem 1rem; margin: .5rem 0; }
dl.meta dt { font-weight: 600; color: #444c56; }
dl.meta dd { margin: 0; }
.req { color: #b31d28; font-weight: 600; }
nav ul { columns: 2; padding-left: 1.2rem; }
footer { color: #57606a; font-size: 13px; margin-top: 3rem; }
"""


def esc(s):
    return html.escape(str(s), quote=True)


def inline(text):
    """Escape text, then render `code` and **strong**."""
    s = esc(text)
    s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
    s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
    return s


def md(text):
    """The Markdown subset the document uses: paragraphs and - lists."""
    out = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        if all(ln.startswith("- ") for ln in lines):
            out.append("<ul>" + "".join("<li>" + inline(ln[2:]) + "</li>"
                                        for ln in lines) + "</ul>")
        else:
            out.append("<p>" + inline(" ".join(lines)) + "</p>")
    return "\n".join(out)


class Renderer:
    def __init__(self, spec):
        self.spec = spec
        self.out = []

    def w(self, s):
        self.out.append(s)

    # -- references and schema descriptions --------------------------------

    def resolve(self, obj):
        seen = 0
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            if not ref.startswith("#/") or seen > 16:
                raise ValueError("unsupported $ref " + ref)
            obj = self.spec
            for part in ref[2:].split("/"):
                obj = obj[part.replace("~1", "/").replace("~0", "~")]
            seen += 1
        return obj

    @staticmethod
    def ref_name(obj):
        if isinstance(obj, dict) and "$ref" in obj:
            return obj["$ref"].rsplit("/", 1)[1]
        return None

    def type_html(self, schema):
        name = self.ref_name(schema)
        if name is not None:
            return '<a href="#schema-%s">%s</a>' % (esc(name), esc(name))
        if "const" in schema:
            return "<code>%s</code>" % esc(json.dumps(schema["const"]))
        t = schema.get("type", "any")
        types = t if isinstance(t, list) else [t]
        parts = []
        for ty in types:
            if ty == "array" and "items" in schema:
                parts.append("array of " + self.type_html(schema["items"]))
            else:
                parts.append(esc(ty))
        s = " or ".join(parts)
        if "format" in schema:
            s += " (%s)" % esc(schema["format"])
        return s

    @staticmethod
    def constraints(schema):
        c = []
        if "enum" in schema:
            c.append("one of " + ", ".join("<code>%s</code>" % esc(v)
                                           for v in schema["enum"]))
        lo, hi = schema.get("minLength"), schema.get("maxLength")
        if lo is not None and hi is not None:
            c.append("length %s..%s" % (lo, hi))
        elif hi is not None:
            c.append("length at most %s" % hi)
        elif lo is not None:
            c.append("length at least %s" % lo)
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None and hi is not None:
            c.append("%s..%s" % (lo, hi))
        elif lo is not None:
            c.append("at least %s" % lo)
        elif hi is not None:
            c.append("at most %s" % hi)
        if "maxItems" in schema:
            c.append("at most %s items" % schema["maxItems"])
        if "pattern" in schema:
            c.append("pattern <code>%s</code>" % esc(schema["pattern"]))
        if "default" in schema:
            c.append("default <code>%s</code>"
                     % esc(json.dumps(schema["default"])))
        return "; ".join(c)

    def fields_table(self, schema):
        schema = self.resolve(schema)
        props = schema.get("properties") or {}
        if not props:
            return False
        required = set(schema.get("required") or [])
        self.w("<table><thead><tr><th>Field</th><th>Type</th>"
               "<th>Constraints</th><th>Description</th></tr></thead>"
               "<tbody>")
        for name, prop in props.items():
            req = (' <span class="req" title="required">required</span>'
                   if name in required else "")
            desc = ""
            if isinstance(prop, dict) and "$ref" not in prop:
                desc = prop.get("description", "")
            self.w("<tr><td><code>%s</code>%s</td><td>%s</td><td>%s</td>"
                   "<td>%s</td></tr>"
                   % (esc(name), req, self.type_html(prop),
                      self.constraints(self.resolve(prop)), md(desc)))
        self.w("</tbody></table>")
        return True

    # -- the page ----------------------------------------------------------

    def operations(self):
        """(tag, path, method, path item, operation), in document order."""
        ops = []
        for path, item in self.spec.get("paths", {}).items():
            for method in METHODS:
                if method in item:
                    o = item[method]
                    tag = (o.get("tags") or ["Other"])[0]
                    ops.append((tag, path, method, item, o))
        return ops

    def tags(self):
        names = [t["name"] for t in self.spec.get("tags", [])]
        for tag, *_ in self.operations():
            if tag not in names:
                names.append(tag)
        return names

    @staticmethod
    def op_id(path, method, o):
        return "op-" + o.get("operationId",
                             method + re.sub(r"[^A-Za-z0-9]+", "-", path))

    def render(self):
        info = self.spec.get("info", {})
        title = info.get("title", "API")
        self.w("<!DOCTYPE html>")
        self.w('<html lang="en"><head><meta charset="utf-8">')
        self.w('<meta name="viewport" content="width=device-width, '
               'initial-scale=1">')
        self.w("<title>%s %s API</title>"
               % (esc(title), esc(info.get("version", ""))))
        self.w("<style>%s</style></head><body><main>" % STYLE)
        self.w("<h1>%s API <small>%s</small></h1>"
               % (esc(title), esc(info.get("version", ""))))
        if "summary" in info:
            self.w('<p class="subtitle">%s &middot; OpenAPI document: '
                   '<a href="/v1/openapi.json">/v1/openapi.json</a></p>'
                   % inline(info["summary"]))
        self.contents()
        self.w('<h2 id="overview">Overview</h2>')
        self.w(md(info.get("description", "")))
        self.security()
        for tag in self.tags():
            self.tag_section(tag)
        self.schemas()
        self.errors()
        self.w("<footer>Generated from the OpenAPI %s document by "
               "<code>tools/gen-docs.py</code>.</footer>"
               % esc(self.spec.get("openapi", "")))
        self.w("</main></body></html>")
        return "\n".join(self.out) + "\n"

    def contents(self):
        self.w('<nav><h2 id="contents">Contents</h2><ul>')
        self.w('<li><a href="#overview">Overview</a></li>')
        self.w('<li><a href="#authentication">Authentication</a></li>')
        for tag, path, method, _item, o in self.operations():
            self.w('<li><a href="#%s"><code>%s %s</code></a></li>'
                   % (esc(self.op_id(path, method, o)),
                      esc(method.upper()), esc(path)))
        self.w('<li><a href="#schemas">Schemas</a></li>')
        self.w('<li><a href="#errors">Error codes</a></li>')
        self.w("</ul></nav>")

    def security(self):
        self.w('<h2 id="authentication">Authentication</h2>')
        schemes = self.spec.get("components", {}).get("securitySchemes", {})
        for name, s in schemes.items():
            kind = s.get("type", "")
            if kind == "http":
                kind = "HTTP %s" % s.get("scheme", "")
                if "bearerFormat" in s:
                    kind += " (%s)" % s["bearerFormat"]
            self.w("<h4><code>%s</code>: %s</h4>" % (esc(name), esc(kind)))
            self.w(md(s.get("description", "")))

    def tag_section(self, tag):
        meta = {t["name"]: t for t in self.spec.get("tags", [])}
        self.w('<h2 id="tag-%s">%s</h2>' % (esc(tag), esc(tag)))
        if tag in meta and "description" in meta[tag]:
            self.w(md(meta[tag]["description"]))
        for t, path, method, item, o in self.operations():
            if t == tag:
                self.operation(path, method, item, o)

    def operation(self, path, method, item, o):
        self.w('<section class="op" id="%s">' % esc(self.op_id(path, method,
                                                                  o)))
        self.w('<h3><span class="method %s">%s</span><code class="path">%s'
               '</code></h3>' % (esc(method), esc(method.upper()), esc(path)))
        if "summary" in o:
            self.w("<p><strong>%s</strong></p>" % inline(o["summary"]))
        self.w(md(o.get("description", "")))
        self.w('<dl class="meta">')
        sec = o.get("security", self.spec.get("security", []))
        auth = ", ".join(n for req in sec for n in req) or "none"
        self.w("<dt>Authentication</dt><dd>%s</dd>" % (
            "<code>Authorization: Bearer</code> access token"
            if auth == "bearerAuth" else esc(auth)))
        roles = o.get("x-roles")
        if roles:
            self.w("<dt>Roles</dt><dd>%s</dd>" % ", ".join(
                "<code>%s</code>" % esc(r) for r in roles))
        if "x-usher-program" in item:
            self.w("<dt>Program</dt><dd><code>cgi-bin/%s</code></dd>"
                   % esc(item["x-usher-program"]))
        self.w("</dl>")
        self.parameters(item.get("parameters", []) + o.get("parameters", []))
        if "requestBody" in o:
            self.request_body(self.resolve(o["requestBody"]))
        self.responses(o.get("responses", {}))
        self.w("</section>")

    def parameters(self, params):
        params = [self.resolve(p) for p in params]
        # X-Request-Id is on every operation and explained in the overview.
        params = [p for p in params if p.get("name") != "X-Request-Id"]
        if not params:
            return
        self.w("<h4>Parameters</h4><table><thead><tr><th>Name</th>"
               "<th>In</th><th>Type</th><th>Description</th></tr></thead>"
               "<tbody>")
        for p in params:
            req = (' <span class="req">required</span>'
                   if p.get("required") else "")
            schema = p.get("schema", {})
            self.w("<tr><td><code>%s</code>%s</td><td>%s</td><td>%s</td>"
                   "<td>%s</td></tr>"
                   % (esc(p.get("name")), req, esc(p.get("in")),
                      self.type_html(schema), md(p.get("description", ""))))
        self.w("</tbody></table>")

    def request_body(self, body):
        for media, m in body.get("content", {}).items():
            schema = m.get("schema", {})
            name = self.ref_name(schema)
            self.w("<h4>Request body (<code>%s</code>%s%s)</h4>"
                   % (esc(media), ", " + self.type_html(schema)
                      if name else "",
                      "" if body.get("required") else ", optional"))
            if body.get("description"):
                self.w(md(body["description"]))
            rs = self.resolve(schema)
            if rs.get("description"):
                self.w(md(rs["description"]))
            self.fields_table(schema)

    def responses(self, responses):
        self.w("<h4>Responses</h4><table><thead><tr><th>Status</th>"
               "<th>Description</th><th>Body</th><th>Headers</th></tr>"
               "</thead><tbody>")
        for status, r in responses.items():
            r = self.resolve(r)
            body = "<br>".join(
                "<code>%s</code> %s" % (esc(media),
                                        self.type_html(m.get("schema", {})))
                for media, m in r.get("content", {}).items()) or "none"
            headers = "<br>".join(
                self.header_html(h, self.resolve(v))
                for h, v in r.get("headers", {}).items())
            self.w("<tr><td><strong>%s</strong></td><td>%s</td><td>%s</td>"
                   "<td>%s</td></tr>"
                   % (esc(status), md(r.get("description", "")), body,
                      headers))
        self.w("</tbody></table>")

    @staticmethod
    def header_html(name, header):
        const = header.get("schema", {}).get("const")
        if const is not None:
            return "<code>%s: %s</code>" % (esc(name), esc(const))
        return "<code>%s</code>" % esc(name)

    def schemas(self):
        self.w('<h2 id="schemas">Schemas</h2>')
        comps = self.spec.get("components", {}).get("schemas", {})
        for name, s in comps.items():
            self.w('<section id="schema-%s"><h3>%s</h3>'
                   % (esc(name), esc(name)))
            self.w(md(s.get("description", "")))
            self.fields_table(s)
            if "example" in s:
                self.w("<h4>Example</h4><pre><code>%s</code></pre>"
                       % esc(json.dumps(s["example"], indent=2)))
            self.w("</section>")

    def errors(self):
        self.w('<h2 id="errors">Error codes</h2>')
        self.w("<p>Every error is a problem details object (<a "
               'href="#schema-Problem">Problem</a>, <code>application/'
               "problem+json</code>). Its <code>code</code> is one of:</p>")
        self.w("<table><thead><tr><th>Code</th><th>Status</th>"
               "<th>Meaning</th></tr></thead><tbody>")
        for e in self.spec.get("x-usher-errors", []):
            self.w("<tr><td><code>%s</code></td><td>%s</td><td>%s</td>"
                   "</tr>" % (esc(e["code"]), esc(e["status"]),
                              inline(e.get("description", ""))))
        self.w("</tbody></table>")
        fe = self.spec.get("x-usher-field-errors", [])
        if fe:
            self.w("<p>Codes of the entries of <code>errors</code> (field "
                   "problems of a 400):</p>")
            self.w("<table><thead><tr><th>Code</th><th>Meaning</th></tr>"
                   "</thead><tbody>")
            for e in fe:
                self.w("<tr><td><code>%s</code></td><td>%s</td></tr>"
                       % (esc(e["code"]), inline(e.get("description", ""))))
            self.w("</tbody></table>")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(
        description="Render the OpenAPI document as a static HTML page.")
    ap.add_argument("spec", nargs="?",
                    default=os.path.join(root, "data", "openapi.json"))
    ap.add_argument("-o", "--output",
                    default=os.path.join(root, "data", "docs.html"))
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if the output file is out of date")
    args = ap.parse_args()

    with open(args.spec, encoding="utf-8") as f:
        spec = json.load(f)
    page = Renderer(spec).render()

    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != page:
            print("%s is out of date: run tools/gen-docs.py" % args.output,
                  file=sys.stderr)
            return 1
        return 0

    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
