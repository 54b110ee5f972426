import { Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { ok } from '@tocsin/client';
import { api, ApiError, storeKey } from '../api';

/** The tenant API key is checked against /v1 and kept in sessionStorage only (gone when the tab closes). */
export function SignInPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await ok(api(key.trim()).GET('/v1/monitors', { params: { query: { limit: 1 } } }));
      storeKey(key.trim());
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That key was not accepted.' : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Center h="100vh" bg="gray.0">
      <Paper withBorder shadow="sm" p="xl" w={420}>
        <form onSubmit={submit}>
          <Stack>
            <Title order={2}>Tocsin console</Title>
            <Text size="sm" c="dimmed">
              Sign in with a tenant API key. It stays in this browser tab only.
            </Text>
            <PasswordInput
              label="API key"
              value={key}
              onChange={(e) => setKey(e.currentTarget.value)}
              error={error}
              required
              autoFocus
              data-testid="api-key"
            />
            <Button type="submit" loading={busy} disabled={!key.trim()} data-testid="sign-in">
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
