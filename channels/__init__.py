"""Channel connectors that run inside the rasa server (registered by module path in
bot/credentials.yml): Twilio SMS (`channels.sms`), Twilio voice (`channels.voice`) and web chat.

They may only use what Rasa's environment has (channels/requirements.txt). Every connector
keeps card numbers away from Rasa (`contracts.masking`) and never lets a customer inject an
intent by typing "/intent".
"""
