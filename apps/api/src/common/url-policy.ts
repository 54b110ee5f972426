import { isPrivateHost } from '@tocsin/net-guard';
import { refuse, type Refusal } from './result';

/** Up-front refusal of private targets; the dispatcher checks the resolved address again at connect time. */
export function checkTargetUrl(url: string, allowPrivate: boolean, field = 'url'): Refusal | null {
  if (allowPrivate) return null;
  return isPrivateHost(new URL(url).hostname)
    ? refuse(400, 'private, loopback and link-local addresses are not allowed (TOCSIN_ALLOW_PRIVATE_URLS)', field)
    : null;
}
