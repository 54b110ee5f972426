/**
 * The work's result, or `timeout` once `ms` have passed. The work is not cancelled: a client
 * whose library cannot abort a send (nodemailer, kafkajs) lets it finish unobserved, and the
 * retry sends again under the same delivery id, which the receiver deduplicates on.
 */
export async function beforeDeadline<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
