/**
 * Alerts: firing and pending first, then recently resolved, each with its
 * timeline on demand; silences listed, created and expired with the API
 * token (asked for when the daemon refuses, kept in memory only). The lists
 * are read again after transitions (alerts follow them), never on a timer.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  createSilence,
  expireSilence,
  getAlert,
  getAlerts,
  getSilences,
  ApiError,
  MAX_ACTIVE_ALERTS,
  type AlertLists as Lists,
  type AlertSummary,
  type Silence,
} from '../api';
import { ErrorNotice, Show } from '../components/notice';
import { formatAgo, formatDateTime, formatTime } from '../format';
import { useLoad } from '../hooks';
import type { MeshStore } from '../mesh-store';

/** Transitions are followed by one read of the alerts this much later (a burst costs one). */
const SETTLE_MS = 2000;

export function AlertsView({ store }: { store: MeshStore }) {
  const [alerts, reloadAlerts] = useLoad(() => getAlerts(), []);
  const [silences, reloadSilences] = useLoad(() => getSilences(), []);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = store.onTransition(() => {
      clearTimeout(timer);
      timer = setTimeout(reloadAlerts, SETTLE_MS);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [store]);
  useEffect(() => {
    document.title = 'Alerts · healthmesh';
  }, []);
  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title" tabIndex={-1}>
        Alerts
      </h1>
      <Show
        loaded={alerts}
        what="alerts"
        unavailable="Firing and recent alerts, their timelines and silences appear here when the daemon's config has an alerts: section."
      >
        {(lists) => <AlertLists lists={lists} />}
      </Show>
      <h2>Silences</h2>
      <Show loaded={silences} what="silences">
        {(list) => (
          <>
            <SilenceList silences={list} onChange={reloadSilences} />
            <SilenceForm onCreated={reloadSilences} />
          </>
        )}
      </Show>
    </section>
  );
}

const LEVEL_ORDER = { critical: 0, warning: 1, info: 2 } as const;

function AlertLists({ lists }: { lists: Lists }) {
  const active = [...lists.active].sort((a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || b.activeSince - a.activeSince);
  const resolved = [...lists.resolved].sort((a, b) => (b.resolvedAt ?? 0) - (a.resolvedAt ?? 0));
  return (
    <>
      <h2>
        Firing and pending ({active.length}
        {lists.activeMore ? '+' : ''})
      </h2>
      {lists.activeMore && <p class="muted small">The newest {MAX_ACTIVE_ALERTS} are shown.</p>}
      {active.length === 0 ? <p>Nothing is firing.</p> : <AlertTable alerts={active} />}
      <h2>Recently resolved ({resolved.length})</h2>
      {resolved.length === 0 ? <p class="muted">None.</p> : <AlertTable alerts={resolved} />}
    </>
  );
}

function AlertTable({ alerts }: { alerts: AlertSummary[] }) {
  return (
    <ul class="alert-list">
      {alerts.map((a) => (
        <AlertItem key={a.id} alert={a} />
      ))}
    </ul>
  );
}

function AlertItem({ alert }: { alert: AlertSummary }) {
  const [open, setOpen] = useState(false);
  const panel = `alert-${alert.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return (
    <li class={`alert level-${alert.level} state-${alert.state}`} data-alert={alert.id}>
      <div class="alert-head">
        <span class="level">{alert.level}</span>
        <span class="state">{alert.state}</span>
        <strong>{alert.rule}</strong>
        <span>{alert.summary}</span>
        <span class="muted">
          {alert.state === 'resolved' && alert.resolvedAt
            ? `resolved ${formatAgo(alert.resolvedAt)}`
            : `since ${formatTime(alert.firedAt ?? alert.activeSince)}`}
        </span>
        <button type="button" aria-expanded={open} aria-controls={panel} onClick={() => setOpen(!open)}>
          {open ? 'Hide timeline' : 'Timeline'}
        </button>
      </div>
      <p class="labels">
        {Object.entries(alert.labels).map(([k, v]) => (
          <code key={k}>
            {k}={v}
          </code>
        ))}
        {alert.foldedInto && <span class="muted"> folded into {alert.foldedInto} (root cause)</span>}
      </p>
      {open && (
        <div id={panel}>
          <AlertTimeline id={alert.id} />
        </div>
      )}
    </li>
  );
}

function AlertTimeline({ id }: { id: string }) {
  const [detail] = useLoad(() => getAlert(id), [id]);
  return (
    <Show loaded={detail} what="the timeline">
      {(a) =>
        a.timeline.length === 0 ? (
          <p class="muted">No timeline entries.</p>
        ) : (
          <ol class="alert-timeline">
            {a.timeline.map((e, i) => (
              <li key={i}>
                <time dateTime={new Date(e.at).toISOString()}>{formatDateTime(e.at)}</time> <strong>{e.type}</strong>
                {e.notifier ? ` via ${e.notifier}` : ''}
                {e.detail ? `: ${e.detail}` : ''}
              </li>
            ))}
          </ol>
        )
      }
    </Show>
  );
}

function SilenceList({ silences, onChange }: { silences: Silence[]; onChange: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const now = Date.now();
  const active = silences.filter((s) => s.end > now);
  const expire = async (id: string): Promise<void> => {
    setError(null);
    try {
      await expireSilence(id);
      onChange();
    } catch (err) {
      // 404: it ended or was expired elsewhere meanwhile; the list read again shows that.
      if (err instanceof ApiError && err.status === 404) onChange();
      setError((err as Error).message);
    }
  };
  return (
    <>
      {error && <ErrorNotice message={error} title="Not expired:" />}
      {active.length === 0 ? (
        <p class="muted">No active silence.</p>
      ) : (
        <ul class="silences">
          {active.map((s) => (
            <li key={s.id} data-silence={s.id}>
              <span>
                {Object.entries(s.matchers)
                  .map(([k, v]) => `${k}=${v.join('|')}`)
                  .join(', ')}
              </span>{' '}
              <span class="muted">
                until {formatDateTime(s.end)} — {s.comment} ({s.createdBy})
              </span>{' '}
              {s.source === 'api' ? (
                <button type="button" onClick={() => void expire(s.id)}>
                  Expire
                </button>
              ) : (
                <span class="muted">from the config</span>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** Sent as they are: the daemon adds them to its own clock. */
const DURATIONS = ['1h', '4h', '24h', '7d'] as const;

function SilenceForm({ onCreated }: { onCreated: () => void }) {
  const [label, setLabel] = useState('service');
  const [value, setValue] = useState('');
  const [duration, setDuration] = useState<string>(DURATIONS[0]);
  const [comment, setComment] = useState('');
  const [author, setAuthor] = useState('');
  const [state, setState] = useState<{ busy: boolean; error: string | null; done: string | null }>({ busy: false, error: null, done: null });
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setState({ busy: true, error: null, done: null });
    try {
      const s = await createSilence({ matchers: { [label]: [value] }, duration, comment, created_by: author });
      setState({ busy: false, error: null, done: `Silence ${s.id} created.` });
      setValue('');
      setComment('');
      onCreated();
    } catch (err) {
      const msg =
        err instanceof ApiError && err.status === 401
          ? err.message === 'no token was given'
            ? 'A token is needed to create a silence.'
            : 'The token was refused; the silence was not created.'
          : (err as Error).message;
      setState({ busy: false, error: msg, done: null });
    }
  };
  return (
    <form class="silence-form" onSubmit={(e) => void submit(e)} aria-labelledby="silence-title">
      <h3 id="silence-title">New silence</h3>
      <p class="muted small">Alerts whose label matches keep firing and are shown; only their notifications stop. Creating one needs the API token.</p>
      <label>
        Label
        <select value={label} onChange={(e) => setLabel(e.currentTarget.value)}>
          <option value="service">service</option>
          <option value="instance">instance</option>
          <option value="check">check</option>
          <option value="rule">rule</option>
        </select>
      </label>
      <label>
        Value (* wildcards)
        <input required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      </label>
      <label>
        For
        <select value={duration} onChange={(e) => setDuration(e.currentTarget.value)}>
          {DURATIONS.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Comment
        <input required value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      </label>
      <label>
        Your name
        <input required value={author} onInput={(e) => setAuthor(e.currentTarget.value)} autocomplete="name" />
      </label>
      <button type="submit" class="primary" disabled={state.busy}>
        Create silence
      </button>
      <p role="status" aria-live="polite">
        {state.done}
      </p>
      {state.error && <ErrorNotice message={state.error} title="Not created:" />}
    </form>
  );
}
