import json
import os

import stripe
from aiohttp import web

from unimeter import AsyncClient, last_billing_period

stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
webhook_secret = os.environ["STRIPE_WEBHOOK_SECRET"]

CUSTOMER_TO_ACCOUNT = {
    "cus_demo_alice": 1,
    "cus_demo_bob": 2,
}

client: AsyncClient  # initialized at startup


async def webhook_handler(request: web.Request) -> web.Response:
    body = await request.read()
    sig = request.headers.get("Stripe-Signature", "")

    try:
        event = stripe.Webhook.construct_event(body, sig, webhook_secret)
    except stripe.error.SignatureVerificationError:
        return web.Response(status=400, text="invalid signature")

    if event["type"] != "invoice.created":
        return web.Response(status=200)

    invoice = event["data"]["object"]
    customer_id = invoice["customer"]
    account_id = CUSTOMER_TO_ACCOUNT.get(customer_id)
    if account_id is None:
        return web.Response(status=200)

    # Query last completed billing period.
    period = last_billing_period(1)
    usage = await client.query(
        account_id,
        "api_calls",
        period,
    )

    # Create a line item on the Stripe invoice.
    idempotency_key = f"unimeter-{account_id}-api_calls-{period.start:%Y-%m}"
    stripe.InvoiceItem.create(
        customer=customer_id,
        invoice=invoice["id"],
        description="API calls",
        quantity=usage.value.count,
        unit_amount=10,  # $0.001 per call
        currency="usd",
        idempotency_key=idempotency_key,
    )
    return web.Response(status=200)


async def on_startup(app: web.Application) -> None:
    global client
    nodes = os.environ["BILLING_NODES"].split(",")
    client = AsyncClient(nodes)
    await client.connect()


async def on_cleanup(app: web.Application) -> None:
    await client.close()


app = web.Application()
app.on_startup.append(on_startup)
app.on_cleanup.append(on_cleanup)
app.router.add_post("/webhook", webhook_handler)

if __name__ == "__main__":
    web.run_app(app, port=4242)
