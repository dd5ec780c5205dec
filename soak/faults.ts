import type pg from 'pg';

/** Terminates one of the soak pool's backends at random moments until told to stop. */
export function backendKiller(admin: pg.Pool, applicationName: string) {
  return async (until: Promise<void>): Promise<number> => {
    let done = false;
    void until.then(() => {
      done = true;
    });
    let kills = 0;
    while (!done) {
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 250));
      if (done) break;
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
         WHERE application_name = $1 AND pid <> pg_backend_pid() ORDER BY random() LIMIT 1`,
        [applicationName],
      );
      if (killed.rows[0]?.ok === true) kills += 1;
    }
    return kills;
  };
}
