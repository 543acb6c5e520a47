/**
 * `npm run -s cli -- replay --room R | head -2`: once `head` has its lines it closes the pipe, and
 * the next write fails with EPIPE, emitted as an 'error' on stdout that nothing handles (a crash
 * with a stack trace). A closed reader means nobody wants the rest: stop quietly, as Unix tools do.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
