/**
 * The API token, kept in this module's memory only: never in storage, a
 * cookie or the URL, so a reload forgets it and nothing else can read it.
 * When a call is refused (401) the page asks for it through TokenDialog;
 * calls refused at the same time share one question.
 */
let token: string | null = null;

/** The question being asked, if any. */
export interface TokenQuestion {
  reason: string;
  answer(value: string | null): void;
}

let pending: { question: TokenQuestion; promise: Promise<string | null> } | null = null;
const listeners = new Set<(q: TokenQuestion | null) => void>();

export function getToken(): string | null {
  return token;
}

export function setToken(value: string | null): void {
  token = value?.trim() ? value.trim() : null;
}

/** Ask the person for the token; resolves with it, or null when they decline. */
export function askToken(reason: string): Promise<string | null> {
  if (pending) return pending.promise;
  let resolve!: (v: string | null) => void;
  const promise = new Promise<string | null>((r) => (resolve = r));
  const question: TokenQuestion = {
    reason,
    answer(value) {
      setToken(value);
      pending = null;
      for (const l of listeners) l(null);
      resolve(token);
    },
  };
  pending = { question, promise };
  for (const l of listeners) l(question);
  return promise;
}

/** Follow the current question (the dialog renders it). */
export function onTokenQuestion(listener: (q: TokenQuestion | null) => void): () => void {
  listeners.add(listener);
  listener(pending?.question ?? null);
  return () => listeners.delete(listener);
}
