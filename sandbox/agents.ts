/** Deterministic seeded AI agents, so list pagination and search-by-name can be tested. */
import type { Agent } from './types';

const AGENT_CATALOGUE: ReadonlyArray<readonly [name: string, description: string]> = [
	['Appointment Setter', 'Books, moves and cancels appointments against the clinic calendar.'],
	['Payment Reminder', 'Calls customers about overdue invoices and takes card payments.'],
	['Order Status Assistant', 'Looks up orders and tells callers where their parcel is.'],
	['Tech Support Tier 1', 'Walks callers through router and account troubleshooting.'],
	['Restaurant Reservations', 'Takes table bookings and dietary notes for the evening service.'],
	['Lead Qualifier', 'Asks inbound leads about budget, timeline and decision makers.'],
	['Survey Caller', 'Runs the post-purchase satisfaction survey in five questions.'],
	['Insurance Claims Intake', 'Collects first notice of loss details for car and home claims.'],
	['Hotel Concierge', 'Answers guest questions about rooms, breakfast and late check-out.'],
	['Pharmacy Refill Line', 'Confirms prescription refills and pickup times.'],
	['Delivery Rescheduler', 'Offers new delivery slots when a driver missed the customer.'],
	['Bank Card Activation', 'Verifies identity and activates newly issued debit cards.'],
	['Utility Outage Line', 'Reports known outages and logs new ones by postcode.'],
	['Car Service Booking', 'Schedules maintenance and MOT appointments at the garage.'],
	['Event Registration', 'Registers attendees and sends the ticket by SMS.'],
	['Subscription Cancellation', 'Handles cancellations and offers retention discounts.'],
	['Property Viewing Scheduler', 'Arranges flat viewings with the letting agent.'],
	['Travel Rebooking Agent', 'Rebooks passengers on cancelled flights.'],
	['Clinic Triage Assistant', 'Asks symptom questions and routes callers to the right nurse line.'],
	['HR Benefits Helpline', 'Answers employee questions about leave and benefits.'],
	['School Absence Line', 'Records pupil absences reported by parents.'],
	['Warranty Claims Agent', 'Opens warranty claims for faulty appliances.'],
	['Donation Hotline', 'Takes one-off and monthly charity donations.'],
	['Municipal Services Desk', 'Logs bin collection, pothole and street light reports.'],
	['Language School Enrollment', 'Places new students in the right course level.'],
];

const SEED_EPOCH_MS = Date.UTC(2026, 0, 5, 9, 0, 0);

/** ULID-looking deterministic id: `agt_01HSBX` + zero-padded index (26 chars after the prefix). */
export function seededAgentId(index: number): string {
	return `agt_01HSBX${String(index + 1).padStart(20, '0')}`;
}

/** The first seeded agent ("Appointment Setter"); present whenever `agents >= 1`. */
export const SANDBOX_AGENT_ID = seededAgentId(0);

export function seedAgents(count: number): Agent[] {
	return Array.from({ length: count }, (_, index) => {
		const [name, description] = AGENT_CATALOGUE[index % AGENT_CATALOGUE.length];
		const round = Math.floor(index / AGENT_CATALOGUE.length);
		return {
			id: seededAgentId(index),
			object: 'agent' as const,
			name: round === 0 ? name : `${name} ${round + 1}`,
			description,
			created_at: new Date(SEED_EPOCH_MS + index * 86_400_000).toISOString(),
		};
	});
}
