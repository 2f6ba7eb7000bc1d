// keystone 2014.2's exceptions and how they go on the wire. Every class, code, title and message below is
// keystone/exception.py at tag 2014.2 (commit ef8d9aa4); the body and headers are
// keystone/common/wsgi.py render_exception. The double runs with [DEFAULT] debug = false, the packaged
// default: SecurityError subclasses (Unauthorized, Forbidden) then show only their message_format, never
// the detail they were raised with (exception.py SecurityError._build_message).

export class KsError extends Error {
  /** Extra members of the body's "error" object (AuthPluginException: "identity"). */
  extra: Record<string, unknown> = {};
  constructor(
    readonly code: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

const BAD_REQUEST = (m: string) => new KsError(400, 'Bad Request', m);

/** exception.ValidationError(attribute=, target=): 400. */
export function validationError(attribute: string, target: string): KsError {
  return BAD_REQUEST(`Expecting to find ${attribute} in ${target} - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`);
}

/** exception.ValidationError(message=…) or ValidationError(msg): 400 with that message. */
export function validationMessage(message: string): KsError {
  return BAD_REQUEST(message);
}

/** exception.SchemaValidationError(detail=): 400 (common/validation/validators.py SchemaValidator.validate). */
export function schemaValidationError(detail: string): KsError {
  return BAD_REQUEST(detail);
}

/** exception.Unauthorized, whatever detail it was raised with: 401 (debug off). */
export function unauthorized(): KsError {
  return new KsError(401, 'Unauthorized', 'The request you have made requires authentication.');
}

/** exception.AuthMethodNotSupported: 401, the body's error carries identity.methods (CONF.auth.methods). */
export function authMethodNotSupported(methods: string[]): KsError {
  const e = new KsError(401, 'Unauthorized', 'Attempted to authenticate with an unsupported method.');
  e.extra.identity = { methods };
  return e;
}

/** exception.ForbiddenAction(action=): 403; SecurityError, but its message_format takes the action. */
export function forbiddenAction(action: string): KsError {
  return new KsError(403, 'Forbidden', `You are not authorized to perform the requested action: ${action}`);
}

/** exception.NotFound subclasses: 404 "Could not find <what>: <id>". */
export function notFound(what: 'user' | 'project' | 'role' | 'domain' | 'service' | 'endpoint' | 'region', id: string): KsError {
  return new KsError(404, 'Not Found', `Could not find ${what}: ${id}`);
}

/** common/wsgi.py Router._dispatch: no route matched (also a method the route does not take). */
export function noRoute(): KsError {
  return new KsError(404, 'Not Found', 'The resource could not be found.');
}

/** exception.Conflict(type=, details=): 409. */
export function conflict(type: string, details: string): KsError {
  return new KsError(409, 'Conflict', `Conflict occurred attempting to store ${type} - ${details}`);
}

/** exception.UnexpectedError (any other Python exception in a controller): 500, generic words with debug off. */
export function unexpectedError(): KsError {
  return new KsError(500, 'Internal Server Error', 'An unexpected error prevented the server from fulfilling your request.');
}

/** A wire answer: status, headers, JSON body (or none: 204, HEAD). */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * common/wsgi.py render_exception: {"error": {"code", "title", "message"}}; an Unauthorized that is no
 * AuthPluginException adds WWW-Authenticate: Keystone uri="<public endpoint or the host the request came to>".
 */
export function renderError(e: KsError, hostUrl: string): Answer {
  const headers: Record<string, string> = {};
  if (e.code === 401 && !('identity' in e.extra)) headers['WWW-Authenticate'] = `Keystone uri="${hostUrl}"`;
  return { status: e.code, headers, body: { error: { code: e.code, title: e.title, message: e.message, ...e.extra } } };
}
