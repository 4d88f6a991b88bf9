/**
 * Admission control: the bound on the requests the engine holds (servellm's
 * `--max-waiting-requests`), so an overload is refused at once instead of queueing without end.
 *
 * Owns: the admission rule (a call's requests are taken while the running and waiting requests
 * plus them stay within `maxNumSeqs + maxWaitingRequests`, i.e. at most `maxWaitingRequests`
 * wait once every running place is taken), the overload refusal (`EngineOverloadedError`, a
 * 503 in the HTTP layer) and the refusal of a call too big to ever fit (`EngineRequestError`,
 * a 400: retrying could not help).
 */
import { EngineOverloadedError, EngineRequestError } from './engine-types.ts';

/**
 * Default `maxWaitingRequests`. `vllm bench serve` sends its default 1,000 prompts at once
 * (request rate inf): 1,024 lets that burst queue whole, while a flood beyond it is refused
 * with 503 rather than holding prompts, sockets and memory for requests that would time out.
 */
export const DEFAULT_MAX_WAITING_REQUESTS = 1024;

/** The engine's counts and limits the rule reads. */
export interface AdmissionState {
  readonly running: number;
  readonly waiting: number;
  readonly maxNumSeqs: number;
  readonly maxWaitingRequests: number;
}

/**
 * Throws unless `places` more requests may be queued now. `callSize` is how many engine
 * requests the whole API call makes (prompts x n, or a beam search's width): a call that could
 * not fit even into an idle engine is an EngineRequestError naming `n`; a call that does not fit
 * now is an EngineOverloadedError.
 */
export function checkAdmission(state: AdmissionState, places: number, callSize: number): void {
  const capacity = state.maxNumSeqs + state.maxWaitingRequests;
  if (callSize > capacity) {
    throw new EngineRequestError(
      `This request needs ${callSize} sequences (prompts x n), more than the server ever holds ` +
        `(max_num_seqs ${state.maxNumSeqs} + max_waiting_requests ${state.maxWaitingRequests} = ${capacity}).`,
      'n',
    );
  }
  if (state.running + state.waiting + places > capacity) {
    throw new EngineOverloadedError(
      `The server is overloaded: ${state.running} requests running and ${state.waiting} waiting ` +
        `(max_waiting_requests ${state.maxWaitingRequests}). Retry later.`,
    );
  }
}
