/**
 * URLs may carry credentials (`https://user:token@host/…`, as pip accepts them): they must never
 * reach a message, a log line or a JSON document, which end up in CI logs. The whole userinfo is
 * replaced, because a token is often given as the user name alone.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@?#"'<>]*@/gi;

export function redactCredentials(text: string): string {
  return text.includes('@') ? text.replace(USERINFO, '$1***@') : text;
}
