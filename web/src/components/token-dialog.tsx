/**
 * Asks for the API token when a call is refused. A native modal <dialog>:
 * focus moves into it and is trapped there, Escape declines. The token goes
 * to auth.ts's memory only.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { onTokenQuestion, type TokenQuestion } from '../auth';

export function TokenDialog() {
  const [question, setQuestion] = useState<TokenQuestion | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => onTokenQuestion(setQuestion), []);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (question && !d.open) {
      d.showModal();
      input.current?.focus();
    } else if (!question && d.open) d.close();
  }, [question]);
  const submit = (e: Event): void => {
    e.preventDefault();
    question?.answer(input.current?.value ?? null);
    if (input.current) input.current.value = '';
  };
  return (
    <dialog ref={dialog} class="token-dialog" aria-labelledby="token-title" onCancel={() => question?.answer(null)}>
      <form onSubmit={submit}>
        <h2 id="token-title">API token needed</h2>
        <p>{question?.reason}</p>
        <label for="token-input">Token</label>
        <input id="token-input" ref={input} type="password" autocomplete="off" spellcheck={false} required />
        <div class="actions">
          <button type="button" onClick={() => question?.answer(null)}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Use token
          </button>
        </div>
      </form>
    </dialog>
  );
}
