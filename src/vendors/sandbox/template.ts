/**
 * A renderer for the subset of Klaviyo's Django-style template language that the shipped
 * templates (templates/klaviyo/) use, so the sandbox outbox shows what Klaviyo would send:
 *
 *   {{ event.items.0.title }}  {{ event.first_name|default:"there" }}  {{ x|upper }}
 *   {% if a %}..{% elif not b %}..{% else %}..{% endif %}   (and, or, not, == != < > <= >=)
 *   {% for item in event.items %}..{{ forloop.counter }}..{% empty %}..{% endfor %}
 *   {% unsubscribe %}  {% unsubscribe "Stop these emails" %}  {% unsubscribe_url %}
 *   {# comments #}
 *
 * Output of `{{ }}` is HTML-escaped. Anything outside the subset is an error at parse time, so a
 * template edited beyond what the sandbox understands fails loudly in the tests, not silently in
 * the outbox. With `strict`, a variable that is not defined (as opposed to null) is an error too:
 * the tests render every template that way to hold them to the documented properties.
 */
import { escapeHtml, textOf } from '../html';

export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Expr =
  | { kind: 'literal'; value: unknown }
  | { kind: 'path'; path: string[] }
  | { kind: 'filtered'; base: Expr; filters: { name: string; arg: Expr | null }[] }
  | { kind: 'not'; operand: Expr }
  | { kind: 'binary'; op: string; left: Expr; right: Expr };

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; expr: Expr }
  | { kind: 'if'; branches: { test: Expr | null; body: Node[] }[] }
  | { kind: 'for'; variable: string; iterable: Expr; body: Node[]; empty: Node[] }
  | { kind: 'unsubscribe'; text: string | null }
  | { kind: 'unsubscribe_url' };

export interface RenderOptions {
  strict?: boolean;
  /** Where `{% unsubscribe %}` points in the sandbox. */
  unsubscribeUrl?: string;
}

const FILTERS: Record<string, (value: unknown, arg: unknown) => unknown> = {
  default: (value, arg) =>
    value === null || value === undefined || value === '' || value === false ? arg : value,
  upper: (value) => textOf(value).toUpperCase(),
  lower: (value) => textOf(value).toLowerCase(),
  length: (value) => (Array.isArray(value) || typeof value === 'string' ? value.length : 0),
};

// ---- tokenizer -------------------------------------------------------------------------------

type Token = { kind: 'text' | 'var' | 'tag'; value: string; line: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const re = /\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}|\{#[\s\S]*?#\}/g;
  let last = 0;
  let match: RegExpExecArray | null;
  const lineAt = (index: number) => source.slice(0, index).split('\n').length;
  while ((match = re.exec(source))) {
    if (match.index > last)
      tokens.push({ kind: 'text', value: source.slice(last, match.index), line: lineAt(last) });
    if (match[1] !== undefined)
      tokens.push({ kind: 'var', value: match[1].trim(), line: lineAt(match.index) });
    else if (match[2] !== undefined)
      tokens.push({ kind: 'tag', value: match[2].trim(), line: lineAt(match.index) });
    last = re.lastIndex;
  }
  if (last < source.length) tokens.push({ kind: 'text', value: source.slice(last), line: lineAt(last) });
  return tokens;
}

// ---- expressions -----------------------------------------------------------------------------

const EXPR_TOKEN =
  /\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|==|!=|<=|>=|<|>|\||:|-?\d+(?:\.\d+)?|[A-Za-z_][\w.]*)/y;

function lexExpr(text: string, line: number): string[] {
  const parts: string[] = [];
  EXPR_TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    EXPR_TOKEN.lastIndex = pos;
    const m = EXPR_TOKEN.exec(text);
    if (!m || m[1] === undefined)
      throw new TemplateError(`line ${line}: cannot read "${text.slice(pos).trim()}"`);
    parts.push(m[1]);
    pos = EXPR_TOKEN.lastIndex;
  }
  return parts;
}

function parseExpression(text: string, line: number): Expr {
  const parts = lexExpr(text, line);
  let i = 0;
  const peek = () => parts[i];
  const next = () => {
    const t = parts[i++];
    if (t === undefined) throw new TemplateError(`line ${line}: incomplete expression "${text}"`);
    return t;
  };
  const operand = (): Expr => {
    const t = next();
    if (/^["']/.test(t)) return { kind: 'literal', value: t.slice(1, -1).replace(/\\(.)/g, '$1') };
    if (/^-?\d/.test(t)) return { kind: 'literal', value: Number(t) };
    if (t === 'True' || t === 'true') return { kind: 'literal', value: true };
    if (t === 'False' || t === 'false') return { kind: 'literal', value: false };
    if (t === 'None' || t === 'null') return { kind: 'literal', value: null };
    if (/^[A-Za-z_]/.test(t) && !['and', 'or', 'not'].includes(t))
      return { kind: 'path', path: t.split('.') };
    throw new TemplateError(`line ${line}: unexpected "${t}" in "${text}"`);
  };
  const filtered = (): Expr => {
    const base = operand();
    const filters: { name: string; arg: Expr | null }[] = [];
    while (peek() === '|') {
      next();
      const name = next();
      if (!FILTERS[name]) throw new TemplateError(`line ${line}: unsupported filter "${name}"`);
      let arg: Expr | null = null;
      if (peek() === ':') {
        next();
        arg = operand();
      }
      filters.push({ name, arg });
    }
    return filters.length ? { kind: 'filtered', base, filters } : base;
  };
  const comparison = (): Expr => {
    const left = filtered();
    const op = peek();
    if (op && ['==', '!=', '<', '>', '<=', '>='].includes(op)) {
      next();
      return { kind: 'binary', op, left, right: filtered() };
    }
    return left;
  };
  const negation = (): Expr => {
    if (peek() === 'not') {
      next();
      return { kind: 'not', operand: negation() };
    }
    return comparison();
  };
  const conjunction = (): Expr => {
    let left = negation();
    while (peek() === 'and') {
      next();
      left = { kind: 'binary', op: 'and', left, right: negation() };
    }
    return left;
  };
  const disjunction = (): Expr => {
    let left = conjunction();
    while (peek() === 'or') {
      next();
      left = { kind: 'binary', op: 'or', left, right: conjunction() };
    }
    return left;
  };
  const expr = disjunction();
  if (i < parts.length) throw new TemplateError(`line ${line}: unexpected "${parts[i]}" in "${text}"`);
  return expr;
}

// ---- parser ----------------------------------------------------------------------------------

function parse(tokens: Token[]): Node[] {
  let pos = 0;
  const block = (stops: string[]): { nodes: Node[]; stop: Token | null } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const token = tokens[pos++]!;
      if (token.kind === 'text') nodes.push({ kind: 'text', text: token.value });
      else if (token.kind === 'var')
        nodes.push({ kind: 'output', expr: parseExpression(token.value, token.line) });
      else {
        const [name = '', ...rest] = token.value.split(/\s+/);
        const args = token.value.slice(name.length).trim();
        if (stops.includes(name)) return { nodes, stop: token };
        if (name === 'if') {
          const branches: { test: Expr | null; body: Node[] }[] = [];
          let test: Expr | null = parseExpression(args, token.line);
          for (;;) {
            const { nodes: body, stop } = block(['elif', 'else', 'endif']);
            branches.push({ test, body });
            if (!stop) throw new TemplateError(`line ${token.line}: {% if %} without {% endif %}`);
            const stopName = stop.value.split(/\s+/)[0];
            if (stopName === 'endif') break;
            test = stopName === 'elif' ? parseExpression(stop.value.slice(4).trim(), stop.line) : null;
          }
          nodes.push({ kind: 'if', branches });
        } else if (name === 'for') {
          const m = /^([A-Za-z_]\w*)\s+in\s+(.+)$/.exec(args);
          if (!m) throw new TemplateError(`line ${token.line}: expected {% for x in list %}`);
          const { nodes: body, stop } = block(['empty', 'endfor']);
          if (!stop) throw new TemplateError(`line ${token.line}: {% for %} without {% endfor %}`);
          let empty: Node[] = [];
          if (stop.value === 'empty') {
            const end = block(['endfor']);
            if (!end.stop) throw new TemplateError(`line ${token.line}: {% for %} without {% endfor %}`);
            empty = end.nodes;
          }
          nodes.push({
            kind: 'for',
            variable: m[1]!,
            iterable: parseExpression(m[2]!, token.line),
            body,
            empty,
          });
        } else if (name === 'unsubscribe') {
          const text = rest.length ? parseExpression(args, token.line) : null;
          if (text && text.kind !== 'literal')
            throw new TemplateError(`line ${token.line}: {% unsubscribe %} takes a quoted text`);
          nodes.push({ kind: 'unsubscribe', text: text ? String((text as { value: unknown }).value) : null });
        } else if (name === 'unsubscribe_url') {
          nodes.push({ kind: 'unsubscribe_url' });
        } else {
          throw new TemplateError(`line ${token.line}: unsupported tag {% ${name} %}`);
        }
      }
    }
    return { nodes, stop: null };
  };
  const { nodes, stop } = block([]);
  if (stop) throw new TemplateError(`line ${stop.line}: unexpected {% ${stop.value} %}`);
  return nodes;
}

// ---- evaluation ------------------------------------------------------------------------------

type Scope = Record<string, unknown>;

function lookup(scope: Scope, path: string[], strict: boolean): unknown {
  let value: unknown = scope;
  for (const [depth, key] of path.entries()) {
    if (value === null || value === undefined) {
      if (strict && depth > 0)
        throw new TemplateError(`"${path.join('.')}": "${path.slice(0, depth).join('.')}" is empty`);
      return undefined;
    }
    const container = value as Record<string, unknown>;
    if (strict && !(key in Object(container))) throw new TemplateError(`"${path.join('.')}" is not defined`);
    value = Array.isArray(container) && /^\d+$/.test(key) ? container[Number(key)] : container[key];
  }
  return value;
}

const truthy = (v: unknown) =>
  !(
    v === null ||
    v === undefined ||
    v === false ||
    v === 0 ||
    v === '' ||
    (Array.isArray(v) && v.length === 0)
  );

function evaluate(expr: Expr, scope: Scope, strict: boolean): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'path':
      return lookup(scope, expr.path, strict);
    case 'filtered':
      return expr.filters.reduce(
        (value, f) => FILTERS[f.name]!(value, f.arg ? evaluate(f.arg, scope, strict) : undefined),
        evaluate(expr.base, scope, strict),
      );
    case 'not':
      return !truthy(evaluate(expr.operand, scope, strict));
    case 'binary': {
      if (expr.op === 'and')
        return truthy(evaluate(expr.left, scope, strict)) && truthy(evaluate(expr.right, scope, strict));
      if (expr.op === 'or')
        return truthy(evaluate(expr.left, scope, strict)) || truthy(evaluate(expr.right, scope, strict));
      const a = evaluate(expr.left, scope, strict) as number;
      const b = evaluate(expr.right, scope, strict) as number;
      switch (expr.op) {
        case '==':
          return a === b;
        case '!=':
          return a !== b;
        case '<':
          return a < b;
        case '>':
          return a > b;
        case '<=':
          return a <= b;
        default:
          return a >= b;
      }
    }
  }
}

function renderNodes(nodes: Node[], scope: Scope, options: Required<RenderOptions>): string {
  let out = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out += node.text;
        break;
      case 'output': {
        const value = evaluate(node.expr, scope, options.strict);
        out += value === null || value === undefined ? '' : escapeHtml(value);
        break;
      }
      case 'if': {
        const branch = node.branches.find(
          (b) => b.test === null || truthy(evaluate(b.test, scope, options.strict)),
        );
        if (branch) out += renderNodes(branch.body, scope, options);
        break;
      }
      case 'for': {
        const list = evaluate(node.iterable, scope, options.strict);
        const items: unknown[] = Array.isArray(list) ? (list as unknown[]) : [];
        if (items.length === 0) out += renderNodes(node.empty, scope, options);
        items.forEach((item, index) => {
          const forloop = {
            counter: index + 1,
            counter0: index,
            first: index === 0,
            last: index === items.length - 1,
          };
          out += renderNodes(node.body, { ...scope, [node.variable]: item, forloop }, options);
        });
        break;
      }
      case 'unsubscribe':
        out += `<a href="${escapeHtml(options.unsubscribeUrl)}">${escapeHtml(node.text ?? 'Unsubscribe')}</a>`;
        break;
      case 'unsubscribe_url':
        out += escapeHtml(options.unsubscribeUrl);
        break;
    }
  }
  return out;
}

export interface CompiledTemplate {
  render(scope: Scope, options?: RenderOptions): string;
}

export function compileTemplate(source: string): CompiledTemplate {
  const nodes = parse(tokenize(source));
  return {
    render: (scope, options = {}) =>
      renderNodes(nodes, scope, {
        strict: options.strict ?? false,
        unsubscribeUrl: options.unsubscribeUrl ?? '#unsubscribe',
      }),
  };
}
