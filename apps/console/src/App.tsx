import { AppShell, Button, Group, NavLink, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { Navigate, NavLink as RouterLink, Route, Routes, useLocation, useNavigate } from 'react-router';
import { forgetKey, setUnauthorizedHandler, storedKey } from './api';
import { DeliveryPage } from './pages/DeliveryPage';
import { EndpointPage } from './pages/EndpointPage';
import { EndpointsPage } from './pages/EndpointsPage';
import { IncidentPage } from './pages/IncidentPage';
import { IncidentsPage } from './pages/IncidentsPage';
import { MonitorPage } from './pages/MonitorPage';
import { MonitorsPage } from './pages/MonitorsPage';
import { ReceiverPage } from './pages/ReceiverPage';
import { ReceiversPage } from './pages/ReceiversPage';
import { SignInPage } from './pages/SignInPage';
import { SlaPage } from './pages/SlaPage';

const SECTIONS = [
  { to: '/monitors', label: 'Monitors' },
  { to: '/incidents', label: 'Incidents' },
  { to: '/endpoints', label: 'Endpoints' },
  { to: '/receivers', label: 'Receivers' },
  { to: '/sla', label: 'SLA' },
];

export function App() {
  const [signedIn, setSignedIn] = useState(() => storedKey() !== null);
  const navigate = useNavigate();
  const location = useLocation();

  useEffect(() => {
    setUnauthorizedHandler(() => {
      forgetKey();
      setSignedIn(false);
    });
  }, []);

  if (!signedIn) {
    return (
      <SignInPage
        onSignedIn={() => {
          setSignedIn(true);
          // Back to the page that was asked for (a webhook's dashboard link, say).
          if (location.pathname === '/' || location.pathname === '/sign-in') navigate('/monitors', { replace: true });
        }}
      />
    );
  }

  return (
    <AppShell header={{ height: 52 }} navbar={{ width: 200, breakpoint: 'sm' }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Text fw={700} size="lg">
            Tocsin
          </Text>
          <Button
            variant="subtle"
            size="xs"
            data-testid="sign-out"
            onClick={() => {
              forgetKey();
              setSignedIn(false);
              navigate('/', { replace: true });
            }}
          >
            Sign out
          </Button>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        {SECTIONS.map((s) => (
          <NavLink key={s.to} component={RouterLink} to={s.to} label={s.label} active={location.pathname.startsWith(s.to)} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Routes>
          <Route path="/" element={<Navigate to="/monitors" replace />} />
          <Route path="/monitors" element={<MonitorsPage />} />
          <Route path="/monitors/:id" element={<MonitorPage />} />
          <Route path="/incidents" element={<IncidentsPage />} />
          <Route path="/incidents/:dedupKey" element={<IncidentPage />} />
          <Route path="/endpoints" element={<EndpointsPage />} />
          <Route path="/endpoints/:id" element={<EndpointPage />} />
          <Route path="/deliveries/:id" element={<DeliveryPage />} />
          <Route path="/receivers" element={<ReceiversPage />} />
          <Route path="/receivers/:id" element={<ReceiverPage />} />
          <Route path="/sla" element={<SlaPage />} />
          <Route path="*" element={<Text>No such page.</Text>} />
        </Routes>
      </AppShell.Main>
    </AppShell>
  );
}
